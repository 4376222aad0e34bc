# Modules removed: del, or a child set to None (PyTorch keeps its name), and what a
# resnet18 without its fc does; BatchNorm's ValueError for one value per channel.
import torch
from torch import nn
from torchvision.models import resnet18
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)
    def forward(self, x):
        return self.a(x)
net = Net()
del net.b
print(net, len(list(net.parameters())))
net.a = None
print(net, len(list(net.parameters())))
m = resnet18()
del m.fc
try:
    m(torch.rand(1, 3, 64, 64))
except Exception as e:
    print(type(e).__name__, e)
bn = nn.BatchNorm2d(3)
try:
    bn(torch.rand(1, 3, 1, 1))
except ValueError as e:
    print("ValueError:", e)
m2 = resnet18()
m2.fc = None
try:
    m2(torch.rand(1, 3, 64, 64))
except Exception as e:
    print(type(e).__name__, e)
m2.fc = nn.Linear(512, 3)
print(m2(torch.rand(1, 3, 64, 64)).shape)
