# matmul picks mm, mv or dot by the operands' dims.
import torch

torch.manual_seed(4)
A = torch.rand(3, 4, requires_grad=True)
v = torch.rand(4, requires_grad=True)
w = torch.rand(4, requires_grad=True)
B = torch.rand(4, 2, requires_grad=True)
for y in [A @ B, A @ v, v @ w, torch.mv(A, v), torch.dot(v, w), torch.matmul(A, B)]:
    print(y.grad_fn.name(), tuple(y.shape))
((A @ v).sum() + v @ w).backward()
print(A.grad)
print(v.grad)
