# graph: loss
# A frozen backbone: its parameters get no .grad and SGD leaves them alone.
import torch
from torch import nn

torch.manual_seed(12)
backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
head = nn.Linear(8, 2)
for p in backbone.parameters():
    p.requires_grad = False
model = nn.Sequential(backbone, head)
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
before = backbone[0].weight.clone()
out = model(torch.rand(5, 4))
loss = out.pow(2).mean()
print(loss.grad_fn.name(), out.grad_fn.name())
loss.backward()
opt.step()
print(backbone[0].weight.grad, head.weight.grad.shape)
print(torch.equal(before, backbone[0].weight))
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
