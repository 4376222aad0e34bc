# Elementwise functions and their gradients.
import torch

x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
ys = [torch.sin(x), x.cos(), torch.tanh(x), x.sigmoid(), x.sqrt(), (x - 1).abs(),
      torch.clamp(x, min=0.8), x.clamp(0.6, 1.5), 2 / x, x ** x, x.reciprocal()]
for y in ys:
    print(y.grad_fn.name(), y)
# 2 ** x records PowBackward2 in PyTorch 2.x (GradLens), PowBackward1 in 1.13: its values only.
print((2 ** x).detach())
sum(y.sum() for y in ys + [2 ** x]).backward()
print(x.grad)
