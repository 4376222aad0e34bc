# title: An MLP on a toy regression
# summary: A small network learns y = x² from twenty points: forward, loss, backward and an SGD step, over and over
# graph: loss
import torch
from torch import nn

torch.manual_seed(0)

# Twenty points of y = x² on [-1, 1], one per row: x and y are (20, 1).
x = torch.linspace(-1, 1, 20).unsqueeze(1)
y = x ** 2

# Two layers with a Tanh between them: 1 → 16 → 1.
model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

for step in range(150):
    optim.zero_grad()                  # .grad would otherwise add up across steps
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()                    # fills .grad of every weight and bias
    optim.step()                       # w moves against w.grad
    if step % 30 == 0:
        print(f"step {step:3d}: loss {loss.item():.4f}")

# The graph of the last step ends in loss; its grad_fn is the mean.
print(loss.grad_fn.name())
with torch.no_grad():                  # a prediction: nothing to record
    print(f"model(0.5) = {model(torch.tensor([[0.5]])).item():.3f} (0.5² = 0.25)")
