# Making tensors: arange, linspace, eye, full, *_like.
import torch

print(torch.arange(5), torch.arange(1, 4), torch.arange(0., 1., 0.25))
print(torch.arange(0, 10, 3))
print(torch.linspace(0, 1, 5))
print(torch.linspace(-1, 1, 4))
print(torch.eye(3))
print(torch.full((2, 2), 7.))
print(torch.full((2,), 3))
x = torch.tensor([[1., 2.], [3., 4.]])
print(torch.zeros_like(x), torch.ones_like(x))
print(torch.full_like(x, 0.5))
print(torch.ones(3, dtype=torch.int64))
print(torch.zeros((2, 1)), torch.ones([1, 2]))
