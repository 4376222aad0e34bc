# requires_grad propagates: an op records a grad_fn only when an input requires grad.
import torch

torch.manual_seed(0)
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")
print(a.grad_fn)
print(b.grad_fn.name())
print([(f.name() if f is not None else None, i) for f, i in b.grad_fn.next_functions])
print(z.is_leaf, b.is_leaf, a.is_leaf)
print(z)
