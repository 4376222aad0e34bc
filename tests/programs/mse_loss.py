# graph: loss
# MSELoss: mean, sum and none, and its gradient.
import torch
from torch import nn

pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
target = torch.tensor([[1.5, 1.5], [2.0, 5.0]])
for reduction in ["mean", "sum", "none"]:
    print(reduction, nn.MSELoss(reduction=reduction)(pred, target))
loss = nn.MSELoss()(pred, target)
print(loss.grad_fn.name())
loss.backward()
print(pred.grad)
