# graph: loss
# An MLP on a toy regression: nn.Sequential, MSE written out, SGD.
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
x = torch.rand(8, 2)
y = x.sum(1, keepdim=True)
optim = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(5):
    optim.zero_grad(set_to_none=True)
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optim.step()
    print(f"step {step}: loss {loss.item():.6f}")
print(model[0].weight.grad)
print(model[2].bias)
