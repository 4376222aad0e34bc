# detach, detach_, .data and requires_grad_.
import torch

a = torch.tensor([1., 2.], requires_grad=True)
b = a * 2
c = b.detach()
print(c, c.requires_grad, c.is_leaf)
d = a.data
print(d, d.requires_grad)
b.detach_()
print(b, b.requires_grad, b.grad_fn)
e = torch.tensor([3., 4.]).requires_grad_()
print(e)
(e * e).sum().backward()
print(e.grad)
