# graph: y
# Broadcasting: gradients are summed back to each input's shape.
import torch

x = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
b = torch.tensor([10., 20., 30.], requires_grad=True)
c = torch.tensor([[2.], [3.]], requires_grad=True)
y = (x + b) * c
print(y)
y.sum().backward()
print(x.grad)
print(b.grad)
print(c.grad)
s = torch.tensor(2., requires_grad=True)
z = (x * s).sum()
z.backward()
print(s.grad)
