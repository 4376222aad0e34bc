# The first backward sets .grad, later ones add to it; retain_graph keeps the graph.
import torch

w = torch.tensor([0.5, -1.5], requires_grad=True)
loss = (w ** 2).sum()
loss.backward(retain_graph=True)
print(w.grad)
loss.backward(retain_graph=True)
print(w.grad)
loss.backward()
print(w.grad)
w.grad = None
(w * 3).sum().backward()
print(w.grad)
w.grad.zero_()
print(w.grad)
