# max and min over a dim give values and indices; argmax picks the class.
import torch

x = torch.tensor([[1., 5., 2.], [7., 0., 3.]], requires_grad=True)
r = x.max(1)
print(r)
print(r.values.grad_fn.name(), r.indices.dtype)
print(torch.max(x, dim=0, keepdim=True))
print(x.argmax(), x.argmax(1), x.min(1).indices)
v, i = x.min(0)
print(v, i)
(r.values.sum() + v.sum()).backward()
print(x.grad)
