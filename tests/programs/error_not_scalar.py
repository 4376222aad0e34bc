# backward() without gradient= on a tensor that is not a scalar fails.
import torch

a = torch.tensor([1., 2.], requires_grad=True)
b = a * 2
print(b)
b.backward()
