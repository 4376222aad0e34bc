# Tensor.register_hook: a hook sees the gradient reaching a tensor and may replace it.
# graph: loss
import torch

a = torch.tensor([1., 2., 3.], requires_grad=True)
b = a * 2
b.retain_grad()                     # asked first: .grad keeps the gradient before the hook
seen = []
handle = b.register_hook(lambda g: seen.append(g.clone()) or g * 10)
a.register_hook(lambda g: print("a's hook sees", g, "and a.grad is", a.grad))
loss = (b * b).sum()
loss.backward(retain_graph=True)
print("seen", seen)
print("b.grad", b.grad)
print("a.grad", a.grad)

handle.remove()
handle.remove()                     # a second remove does nothing
loss.backward(retain_graph=True)
print("after remove: b.grad", b.grad, "a.grad", a.grad)

# A hook registered before retain_grad: retain_grad sees what the hook returned.
x = torch.tensor([1., -1.], requires_grad=True)
y = x * 3
y.register_hook(lambda g: g * 2)
y.retain_grad()
y.sum().backward()
print("y.grad", y.grad, "x.grad", x.grad)

# Hooks on a leaf run in order, before AccumulateGrad adds to .grad.
w = torch.tensor([0.5, 0.25], requires_grad=True)
w.register_hook(lambda g: g + 1)
w.register_hook(lambda g: print("second hook sees", g))
(w * 4).sum().backward()
print("w.grad", w.grad)

# A hook that clips the gradient, as training code does.
torch.manual_seed(0)
lin = torch.nn.Linear(3, 2)
for p in lin.parameters():
    p.register_hook(lambda g: g.clamp(-0.1, 0.1))
out = lin(torch.randn(4, 3)).pow(2).sum()
out.backward()
print(lin.weight.grad)
print(lin.bias.grad)

try:
    torch.ones(2).register_hook(print)
except RuntimeError as e:
    print("RuntimeError:", e)

c = torch.tensor([1., 2.], requires_grad=True)
c.register_hook(lambda g: torch.ones(3))
try:
    (c * 2).sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)

def broken(g):
    raise ValueError("a hook that fails")

d = torch.tensor([1., 2.], requires_grad=True)
e = d * 2
e.register_hook(broken)
try:
    e.sum().backward()
except ValueError as err:
    print("ValueError:", err)
