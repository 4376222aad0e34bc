# torch.nn.init's initialisations (the same numbers as PyTorch after the seed),
# torch.allclose, F.one_hot, and a TensorDataset batched in order by a DataLoader.
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
import torch.nn.functional as F

torch.manual_seed(0)
w = torch.empty(3, 5)
nn.init.xavier_uniform_(w)
print(w)
nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
print(w)
lin = nn.Linear(4, 2)
nn.init.kaiming_uniform_(lin.weight, a=0.1)
nn.init.zeros_(lin.bias)
print(lin.weight, lin.bias)
nn.init.xavier_normal_(lin.weight, gain=nn.init.calculate_gain("tanh"))
nn.init.constant_(lin.bias, 0.5)
nn.init.normal_(lin.weight, std=0.02)
print(lin.weight, lin.bias, lin.weight.requires_grad, lin.weight.is_leaf)
print(torch.allclose(lin.bias, torch.full((2,), 0.5)), torch.allclose(w, w + 1e-3))
print(F.one_hot(torch.tensor([0, 2, 1])), F.one_hot(torch.tensor([[1], [0]]), 3).shape)

x = torch.arange(10.).reshape(5, 2)
y = torch.tensor([0, 1, 0, 1, 1])
loader = DataLoader(TensorDataset(x, y), batch_size=2)
print(len(loader), len(DataLoader(TensorDataset(x, y), batch_size=2, drop_last=True)))
for xb, yb in loader:
    print(xb, yb)
print(next(iter(DataLoader(TensorDataset(x), batch_size=3))))
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
for xb, yb in loader:
    opt.zero_grad()
    loss = F.cross_entropy(lin(torch.cat([xb, xb], dim=1)), yb)
    loss.backward()
    opt.step()
print(loss)
