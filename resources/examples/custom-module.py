# title: A custom nn.Module
# summary: Layers assigned in __init__ become the module's parameters; forward is plain Python that autograd records
# graph: out
import torch
from torch import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        # Assigning a module to self registers it: its weights show up in
        # parameters(), so an optimizer (and .backward()) can find them.
        self.hidden = nn.Linear(3, 4)
        self.output = nn.Linear(4, 1)

    def forward(self, x):
        # Any Python goes here; autograd records only the tensor operations.
        h = torch.relu(self.hidden(x))
        return self.output(h) + x.sum(dim=1, keepdim=True)


torch.manual_seed(1)
net = TwoLayer()
print(net)
for name, p in net.named_parameters():
    print(name, tuple(p.shape))

out = net(torch.ones(2, 3)).sum()
out.backward()
print(out.grad_fn.name())
print(net.output.weight.grad)
