# Tensor.to, float, long, bool, cpu and Module.to: the tensor itself when nothing
# changes, else a new one (float → int64 toward zero, → bool whether not 0).
import torch
from torch import nn
x = torch.tensor([[-1.7, 0.0, 2.9]], requires_grad=True)
print(x.float() is x, x.to(torch.float32) is x, x.to("cpu") is x, x.cpu() is x)
print(x.long(), x.bool(), x.to(torch.int64).dtype, x.long().requires_grad)
i = torch.tensor([0, 1, 2])
print(i.float(), i.float().requires_grad, (i == 1).float().mean().item(), (i > 0).long())
print(x.to(torch.device("cpu"), torch.int64))
m = nn.Linear(3, 1)
print(m.to("cpu") is m, m.float() is m, m.to(torch.device("cpu")) is m)
