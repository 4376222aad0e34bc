# A graph whose shape depends on the data: a loop that runs a different number of times.
import torch

for seed in range(3):
    torch.manual_seed(seed)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    n = 0
    while y.data.norm() < 100:
        y = y * 2
        n += 1
    y.sum().backward()
    print(seed, n, x.grad)
