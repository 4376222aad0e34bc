# Matrix products: @, mm, matmul, and their gradients.
import torch

torch.manual_seed(3)
x = torch.rand(2, 3, requires_grad=True)
w = torch.rand(3, 4, requires_grad=True)
y = x @ w
print(y.grad_fn.name())
print(torch.mm(x, w).shape, torch.matmul(x, w).shape, x.mm(w).shape)
y.sum().backward()
print(x.grad)
print(w.grad)
print(x.t().shape, x.T.shape)
try:
    x @ x
except RuntimeError as e:
    print(e)
