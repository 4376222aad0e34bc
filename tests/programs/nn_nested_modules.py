# graph: loss
# Modules inside modules: a block of one's own with a Parameter of its own, one
# layer held under two names, a subclass of a built-in layer with its own forward
# inside nn.Sequential, and a loss module.
import torch
from torch import nn


class Doubled(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.gain = nn.Parameter(torch.full((3,), 0.5))

    def forward(self, x):
        return torch.tanh(self.lin(x)) * self.gain


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(Doubled(3, 2), nn.ReLU(), nn.Linear(2, 1))
        self.same_head = self.head

    def forward(self, x):
        return self.head(self.block(x) + x)


torch.manual_seed(3)
model = Net()
loss_fn = nn.MSELoss()
print(model)
print([name for name, _ in model.named_parameters()])
print([name for name, _ in model.named_modules()])
x = torch.rand(4, 3)
loss = loss_fn(model(x), torch.zeros(4, 1))
print(loss)
loss.backward()
print(model.block.gain.grad)
print(model.head[0].weight.grad)
model.block.gain = nn.Parameter(torch.ones(3))
print([name for name, _ in model.named_parameters()][:2], model.block.gain)
# A layer of one's own added after the engine ran the Sequential by itself: it runs.
seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
print(seq(x).sum())
seq.add_module("2", Doubled(2, 2))
print(seq(x).sum())
