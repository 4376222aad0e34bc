# sum and mean, over everything or over dims, and their gradients.
import torch

x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
print(x.sum(), x.mean())
print(x.sum(0), x.sum(1), x.sum(dim=1, keepdim=True))
print(x.mean(0), x.mean(dim=(0, 1)))
s = x.sum(1)
print(s.grad_fn.name(), x.sum().grad_fn.name(), x.mean(0).grad_fn.name())
(x.mean(1) * torch.tensor([1., 2.])).sum().backward()
print(x.grad)
print(torch.tensor([1, 2, 3]).sum())
