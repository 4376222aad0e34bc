# title: Tensor hooks
# summary: register_hook runs a function when the gradient reaches a tensor: to look at it, or to change it
# graph: loss
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 2                               # an intermediate: its .grad is not kept


# A hook receives the gradient arriving at h during backward().
def show(grad):
    print("gradient reaching h:", grad)


h.register_hook(show)

# A hook that returns a tensor replaces the gradient: here it is clipped to 1.
x.register_hook(lambda grad: grad.clamp(max=1.0))

loss = (h ** 2).sum()                   # dloss/dh = 2h = 4x
loss.backward()                         # dloss/dx = 2 · 4x = [8, 16, 24], clipped
print("x.grad after clipping:", x.grad)
