# .grad of a non-leaf is kept only after retain_grad().
import torch

a = torch.tensor([1., 2., 3.], requires_grad=True)
h = a * a
h.retain_grad()
out = (h * 3).sum()
out.backward()
print(h.grad)
print(a.grad)
print(h.is_leaf, out.is_leaf)
k = a + 1
(k * 2).sum().backward()
print(k.grad)
print(a.grad)
