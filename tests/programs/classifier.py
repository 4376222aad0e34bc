# graph: loss
# Cross-entropy on three classes: a linear classifier trained a few steps.
import torch
from torch import nn

torch.manual_seed(5)
x = torch.randn(6, 4)
y = torch.tensor([0, 1, 2, 0, 1, 2])
model = nn.Linear(4, 3)
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
for step in range(5):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    print(f"{step}: {loss.item():.5f}")
print(model(x).softmax(dim=1))
