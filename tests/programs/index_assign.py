# Advanced indexing (x[mask], x[[0, 2]], x[idx]) and item assignment (x[0] = 5., x[:, 1] = t).
# graph: loss
import torch

x = torch.arange(12.).view(3, 4)
print(x[x > 6], x[[0, 2]], x[torch.tensor([2, 0, 2])], x[:, [1, 3]], x[1, [0, 3]])
print(x[torch.tensor([[0, 1], [2, 2]])].shape, x[..., [0]].shape, x[None, [1]].shape)

# Assignment to a tensor that needs no gradient: in place.
x[0] = 5.
x[:, 1] = torch.tensor([-1., -2., -3.])
x[x > 9] = 0.
x[[1, 2], 2] = torch.tensor(7.)
x[-1, -1] = 42
print(x)
n = torch.zeros(2, 3, dtype=torch.long)
n[1, :2] = 3
print(n)

# Gradients through indexing and assignment.
w = torch.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
b = torch.tensor(2., requires_grad=True)
picked = w[w > 2.5]                        # IndexBackward0
rows = w[[1, 0, 1]]                        # IndexBackward0, a row twice
h = w * 2
h[0, 1] = 0.                               # CopySlices, a None slot
h[:, 2] = b * 3                            # CopySlices from MulBackward0
h[h > 9] = torch.tensor(1.)                # IndexPutBackward0
print(picked, rows.grad_fn.name(), h.grad_fn.name(), h)
loss = picked.sum() + (rows ** 2).sum() + (h * h).sum()
loss.backward()
print(w.grad, b.grad)

z = torch.zeros(3)
z[1] = b                                   # z now requires grad
print(z, z.is_leaf, z.grad_fn.name())

try:
    w[0] = 1.
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    w[[0]] = 1.
except RuntimeError as e:
    print("RuntimeError:", e)
with torch.no_grad():
    w[0, 0] = 10.
print(w)
for key in [[5], torch.tensor([0, -3])]:
    try:
        print(w[key])
    except IndexError as e:
        print("IndexError:", e)

# A value with leading dims of size 1 fits, as copy_ takes it; its gradient keeps its shape.
r = torch.tensor([[1., 2., 3.]], requires_grad=True)
t = torch.zeros(2, 3)
t[1] = r * 2
(t * torch.arange(6.).view(2, 3)).sum().backward()
print(t, r.grad)
