# torch.autograd.grad: gradients as a tuple, without touching .grad.
import torch

x = torch.tensor([1., 2., 3.], requires_grad=True)
w = torch.tensor([0.5, -1., 2.], requires_grad=True)
y = (x * x * w).sum()
gx, = torch.autograd.grad(y, x, retain_graph=True)
print(gx, x.grad, w.grad)
print(torch.autograd.grad(y, [x, w], retain_graph=True))
print(torch.autograd.grad(outputs=y, inputs=w, grad_outputs=torch.tensor(2.)))

# A non-leaf input: its gradient is what reaches it.
h = x * 2
z = (h ** 3).sum()
print(torch.autograd.grad(z, [h, x]))

# Several outputs, a gradient for a non-scalar one.
u = x * 3
v = (x ** 2).sum()
print(torch.autograd.grad([u, v], x, grad_outputs=[torch.ones(3), torch.tensor(1.)]))

# Unused inputs.
q = (x * 2).sum()
try:
    torch.autograd.grad(q, [x, w], retain_graph=True)
except RuntimeError as e:
    print("RuntimeError:", e)
print(torch.autograd.grad(q, [x, w], allow_unused=True))

# The graph is freed after grad unless retain_graph=True.
r = (x.exp() * w).sum()
torch.autograd.grad(r, w)
try:
    torch.autograd.grad(r, w)
except RuntimeError as e:
    print("RuntimeError:", str(e)[:54])

try:
    torch.autograd.grad(x * 2, x)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.autograd.grad((x * 2).sum(), torch.ones(3))
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.autograd.grad(torch.ones(1), x)
except RuntimeError as e:
    print("RuntimeError:", e)

# grad and backward side by side: only backward fills .grad.
m = (x * w).sum()
g, = torch.autograd.grad(m, w, retain_graph=True)
m.backward()
print(g, w.grad, x.grad)
