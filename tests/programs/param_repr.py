# Parameters print as "Parameter containing:"; a state dict holds detached tensors.
import torch
from torch import nn

torch.manual_seed(0)
lin = nn.Linear(2, 3)
print(lin.weight)
print(lin)
sd = lin.state_dict()
print(list(sd.keys()), sd["bias"].requires_grad)
other = nn.Linear(2, 3)
print(other.load_state_dict(sd))
print(torch.equal(other.weight, lin.weight))
print(isinstance(lin.weight, nn.Parameter), isinstance(lin.weight, torch.Tensor))
p = nn.Parameter(torch.zeros(2))
print(p, p.requires_grad)
