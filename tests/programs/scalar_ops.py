# A Python number is a scalar operand: a None slot in next_functions.
import torch

a = torch.tensor([1., 2.], requires_grad=True)


def show(label, t):
    fns = [(f.name() if f is not None else None) for f, _ in t.grad_fn.next_functions]
    print(label, t.grad_fn.name(), fns)


show("a + 1", a + 1)
show("1 + a", 1 + a)
show("a - 1", a - 1)
show("1 - a", 1 - a)
show("a * 2", a * 2)
show("2 * a", 2 * a)
show("a / 2", a / 2)
show("-a", -a)
show("a ** 2", a ** 2)
show("a + a", a + a)
show("a * a", a * a)
(a * 2 + 1 - a / 4).sum().backward()
print(a.grad)
