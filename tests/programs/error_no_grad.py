# backward() on a tensor that does not require grad fails.
import torch

a = torch.tensor([1., 2.])
s = (a * 2).sum()
print(s.requires_grad)
s.backward()
