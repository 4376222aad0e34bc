# Parameters assigned after construction: a built-in layer's forward uses the new
# one (its name keeps its place), a plain tensor is refused, a module of one's own
# may set one to None.
import torch
from torch import nn

torch.manual_seed(0)
lin = nn.Linear(2, 2)
lin.weight = nn.Parameter(torch.ones(2, 2))
out = lin(torch.ones(1, 2))
print(out)
out.sum().backward()
print(lin.weight.grad)
print([name for name, _ in lin.named_parameters()], list(lin.state_dict()))

conv = nn.Conv2d(1, 1, 3, bias=False)
conv.weight = nn.Parameter(torch.full((1, 1, 3, 3), 0.5))
print(conv(torch.ones(1, 1, 3, 3)))

try:
    lin.bias = torch.zeros(2)
except TypeError as e:
    print("TypeError:", e)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([2.0]))
        self.b = nn.Parameter(torch.tensor([1.0]))

    def forward(self, x):
        return x * self.w + (self.b if self.b is not None else 0)


s = Scale()
print(s(torch.ones(2)))
s.b = None
print(s(torch.ones(2)), [name for name, _ in s.named_parameters()], s._parameters)
try:
    s.w = 3
except TypeError as e:
    print("TypeError:", e)

# A buffer assigned: BatchNorm's forward uses it; a module's own buffer.
bn = nn.BatchNorm2d(2)
bn.running_mean = torch.tensor([1.0, -1.0])
bn.eval()
print(bn(torch.ones(1, 2, 1, 1)))
print(list(bn.state_dict()))
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("count", torch.zeros(1))
        self.lin = nn.Linear(1, 1)
    def forward(self, x):
        self.count += 1
        return self.lin(x)
m = M()
m(torch.ones(1, 1)); m(torch.ones(1, 1))
print(m.count, list(m.state_dict()), [n for n, _ in m.named_buffers()])
