# title: A frozen backbone
# summary: A backbone whose parameters do not require grad: backward stops at the new head, and only the head learns
# graph: loss
import torch
from torch import nn

torch.manual_seed(4)
backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
head = nn.Linear(8, 2)                  # a new head, for a new task

# Freeze: no gradient is recorded for the backbone's weights.
for p in backbone.parameters():
    p.requires_grad = False

model = nn.Sequential(backbone, head)
optim = torch.optim.SGD(head.parameters(), lr=0.5)
before = backbone[0].weight.clone()

x = torch.rand(6, 4)
target = torch.tensor([0, 1, 1, 0, 1, 0])
for step in range(3):
    optim.zero_grad()
    loss = nn.functional.cross_entropy(model(x), target)
    loss.backward()                     # the graph ends at the head's AccumulateGrads
    optim.step()
    print(f"step {step}: loss {loss.item():.4f}")

print(backbone[0].weight.grad, head.weight.grad.shape)
print("backbone unchanged:", torch.equal(before, backbone[0].weight))
print("trainable:", sum(p.numel() for p in model.parameters() if p.requires_grad))
