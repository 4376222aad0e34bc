# title: Gradient accumulation
# summary: backward() adds to .grad: four small batches give the gradient of one big batch, then one SGD step
# graph: loss
import torch
from torch import nn

torch.manual_seed(2)
model = nn.Linear(2, 1)
optim = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 2)
y = torch.randn(8, 1)

# The whole batch at once, for comparison.
loss = ((model(x) - y) ** 2).mean()
loss.backward()
whole = model.weight.grad.clone()
print("one batch of 8:   ", whole)

# Four batches of 2. No zero_grad() between them: each backward() adds to .grad.
optim.zero_grad()
for i in range(4):
    xb, yb = x[2 * i:2 * i + 2], y[2 * i:2 * i + 2]
    loss = ((model(xb) - yb) ** 2).mean() / 4   # / 4: the mean over all eight
    loss.backward()
    print(f"after batch {i}:  ", model.weight.grad)

print("same gradient:", (whole - model.weight.grad).abs().max().item() < 1e-6)
optim.step()                            # one step with the accumulated gradient
print("after the step:", model.weight.detach())
