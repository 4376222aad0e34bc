# graph: y
# nn.Dropout and F.dropout: ATen's CPU dropout (input · bernoulli(1 − p) / (1 − p),
# MulBackward0), the mask drawn as Debian's PyTorch draws it; eval() lets x through.
import torch
from torch import nn
import torch.nn.functional as F
torch.manual_seed(0)
x = torch.ones(3, 4, requires_grad=True)
d = nn.Dropout(0.3)
print(d)
y = d(x)
print(y)
print(y.grad_fn.name())
y.sum().backward()
print(x.grad)
d.eval()
print(d(x) is x)
print(torch.empty(10).bernoulli_(0.25))
print(F.dropout(torch.ones(2, 3), 0.5))
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))
print(model(torch.ones(2, 4)))
print(F.dropout(torch.ones(2), 1.0))
