# Leaves, non-leaves and what detach() makes.
import torch

a = torch.rand(2, 2, requires_grad=True)
b = a * 2
c = b.detach()
d = c.requires_grad_()
print(a.is_leaf, b.is_leaf, c.is_leaf, d is c, d.requires_grad)
e = torch.ones(3)
print(e.is_leaf, e.requires_grad, (e + 1).is_leaf)
try:
    b.requires_grad = False
except RuntimeError as err:
    print("RuntimeError:", str(err).split(".")[0])
f = a.sum()
print(f.grad_fn.next_functions[0][0].variable is not None)
print(torch.tensor([1, 2]).requires_grad)
try:
    torch.tensor([1, 2], requires_grad=True)
except RuntimeError as err:
    print("RuntimeError:", err)
