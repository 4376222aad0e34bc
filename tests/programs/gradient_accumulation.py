# graph: loss
# Gradient accumulation: four micro-batches summed into .grad, one optimizer step.
import torch
from torch import nn

torch.manual_seed(11)
model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.rand(8, 3)
y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
opt.zero_grad()
for i in range(4):
    xb, yb = x[2 * i:2 * i + 2], y[2 * i:2 * i + 2]
    loss = nn.MSELoss()(model(xb), yb) / 4
    loss.backward()
    print(i, f"{loss.item():.6f}", model.bias.grad)
opt.step()
print(model.weight)
