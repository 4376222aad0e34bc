# A module of one's own: layers registered as attributes, forward in Python.
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(5, 2)
        self.scale = 2.0

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


torch.manual_seed(1)
net = Net()
print(net)
for name, p in net.named_parameters():
    print(name, tuple(p.shape), p.requires_grad)
out = net(torch.ones(4, 3))
print(out)
print(out.grad_fn.name(), [f.name() if f else None for f, _ in out.grad_fn.next_functions])
out.sum().backward()
print(net.fc1.bias.grad)
print(len(list(net.parameters())), len(list(net.children())), len(list(net.modules())))
