# title: no_grad and detach
# summary: Inside torch.no_grad() nothing is recorded; detach() cuts a tensor off the graph, so no gradient flows through it
# graph: loss
import torch

w = torch.tensor([1.0, 2.0], requires_grad=True)

# Recorded: y has a grad_fn and requires grad.
y = w * 3
print(y.requires_grad, y.grad_fn.name())

# Not recorded: no grad_fn, as if w were a plain tensor (evaluation, updates).
with torch.no_grad():
    z = w * 3
print(z.requires_grad, z.grad_fn)

# detach(): the same numbers, but a leaf without history.
d = y.detach()
print(d, d.requires_grad, d.is_leaf)

# Only the first term sees w through the graph: d is a constant to backward.
loss = (y * d).sum()                    # d/dw = 3 · d, not 2 · 9w
loss.backward()
print(w.grad)

# A manual SGD step must not be recorded: do it under no_grad.
with torch.no_grad():
    w -= 0.1 * w.grad
print(w, w.grad_fn)
