# Comparisons make bool tensors; they record nothing.
import torch

a = torch.tensor([1., 2., 3.], requires_grad=True)
b = torch.tensor([3., 2., 1.])
print(a == b, a != b)
print(a < b, a <= b, a > 2, a >= 2)
print((a > 0).all(), (a > 2).any(), (a > 5).any())
print(torch.tensor([1, 2]) == torch.tensor([1, 3]))
print(a.eq(b))
