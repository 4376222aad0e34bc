# What a tensor says about itself.
import torch

t = torch.tensor([[1., 2., 3.], [4., 5., 6.]])
print(t.shape, t.size(), t.size(1), t.dim(), t.ndim, t.numel(), len(t))
print(t.dtype, torch.tensor([1, 2]).dtype, torch.tensor([True]).dtype)
print(t.tolist())
print(t.sum().item(), torch.tensor([7]).item(), torch.tensor(True).item())
print(t.view(3, 2))
print(t.reshape(-1))
print(t.flatten(), torch.flatten(t).shape)
print(t.requires_grad, t.is_leaf, t.grad, t.grad_fn)
print(torch.Size([2, 3]), torch.zeros(4, 1).shape[0])
print(float(torch.tensor(2.5)), int(torch.tensor(3)))
print(f"{torch.tensor(0.123456):.3f}")
