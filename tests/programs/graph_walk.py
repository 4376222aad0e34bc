# next_functions, all the way down: the Q example's graph, None slots included.
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
seen = []


def walk(fn, depth=0):
    if fn is None:
        print("  " * depth + "None")
        return
    print("  " * depth + fn.name())
    if fn.name() == "torch::autograd::AccumulateGrad":
        print("  " * depth + "  variable", fn.variable)
    for nxt, index in fn.next_functions:
        walk(nxt, depth + 1)


walk(Q.grad_fn)
print(Q.grad_fn.next_functions[0][0].next_functions[0][0] is not None)
