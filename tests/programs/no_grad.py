# torch.no_grad(): nothing is recorded inside it; as a decorator too.
import torch

x = torch.ones(3, requires_grad=True)
with torch.no_grad():
    y = x * 2
print(y.requires_grad, y.grad_fn)
print(torch.is_grad_enabled())
z = x * 2
print(z.requires_grad, z.grad_fn.name())


@torch.no_grad()
def double(t):
    return t * 2


print(double(x).requires_grad)
torch.set_grad_enabled(False)
print((x + 1).requires_grad, torch.is_grad_enabled())
torch.set_grad_enabled(True)
with torch.no_grad():
    with torch.enable_grad():
        w = x * 3
print(w.requires_grad)
