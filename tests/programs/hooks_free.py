# Comprehensions, closures, classes and f-strings: real Python around the tensors.
import torch


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, t):
        self.calls += 1
        return t * 2


c = Counter()
xs = [torch.tensor(float(i), requires_grad=True) for i in range(4)]
total = sum(c(x) ** 2 for x in xs)
total.backward()
print(c.calls, total, [x.grad.item() for x in xs])
squares = {i: (x ** 2).item() for i, x in enumerate(xs)}
print(squares)
print(f"{total.item():.2f} {total.shape} {total.dtype}")
