# title: Who requires grad?
# summary: an op records a grad_fn only when one of its inputs requires grad
# graph: b
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
print(b)
