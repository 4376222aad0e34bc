# Views and indexing record PyTorch's nodes; gradients land where the values came from.
import torch

x = torch.arange(12.).view(3, 4).requires_grad_()
print(x[0], x[-1], x[1, 2], x[:, 1], x[1:3], x[::2, 1:3])
print(x[None].shape, x[..., 0])
print(x.unsqueeze(0).shape, x.unsqueeze(-1).shape, x.view(3, 1, 4).squeeze().shape)
print(x.transpose(0, 1).shape, x.permute(1, 0).shape, x.T.shape)
print(torch.cat([x, x]).shape, torch.stack([x, x], 1).shape)
for e in [x[:, 1], x[0, 1], x[1:3], x.t(), x.T, x.unsqueeze(0), torch.cat([x, x])]:
    print(e.grad_fn.name())
(x[:, 1].sum() + 2 * x[0].sum() + x[1:3, ::2].sum()).backward()
print(x.grad)
print(x.clone().grad_fn.name(), x.max(), x.min(), x.max().grad_fn.name())
