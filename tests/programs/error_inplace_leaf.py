# A leaf that requires grad cannot be changed in place (outside no_grad).
import torch

w = torch.tensor([1., 2.], requires_grad=True)
with torch.no_grad():
    w -= 0.5
print(w)
w += 1
