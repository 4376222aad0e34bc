# randn draws PyTorch's numbers: one at a time below 16 elements, in blocks from 16.
import torch

torch.manual_seed(0)
print(torch.randn(3))
print(torch.randn(2, 3))
print(torch.randn(16))
torch.manual_seed(7)
print(torch.randn(17).sum())
w = torch.empty(4)
w.normal_()
print(w)
