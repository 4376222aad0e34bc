# torch.autograd.backward over several tensors: one pass, shared nodes run once.
import torch

x = torch.tensor([1., 2., 3.], requires_grad=True)
h = x.exp()
h.register_hook(lambda g: print("h's gradient, once:", g))
a = (h * 2).sum()
b = (h ** 2).sum()
torch.autograd.backward([a, b])
print(x.grad)

y = x * 3
z = x * x
torch.autograd.backward([y, z], [torch.ones(3), torch.tensor([1., 0., -1.])], retain_graph=True)
print(x.grad)
torch.autograd.backward((y.sum(), z), (None, torch.ones(3)))
print(x.grad)
try:
    torch.autograd.backward([y.sum(), torch.ones(2)])
except RuntimeError as e:
    print("RuntimeError:", e)
