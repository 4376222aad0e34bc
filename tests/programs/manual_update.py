# Gradient descent by hand: the update under no_grad, then .grad zeroed in place.
import torch

torch.manual_seed(2)
w = torch.rand(3, requires_grad=True)
x = torch.tensor([1.0, 2.0, 3.0])
for i in range(4):
    loss = ((w * x).sum() - 1.0) ** 2
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
    w.grad.zero_()
    print(i, round(loss.item(), 5), w)
