# torch.rand after manual_seed draws PyTorch's numbers.
import torch

torch.manual_seed(0)
print(torch.rand(3))
print(torch.rand(2, 3))
torch.manual_seed(42)
print(torch.rand(4))
print(torch.initial_seed())
print(torch.randint(0, 10, (6,)))
print(torch.randint(5, (2, 3)))
