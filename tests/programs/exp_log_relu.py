# exp, log and relu, with their gradients.
import torch

x = torch.tensor([-1., 0.5, 2.], requires_grad=True)
y = torch.exp(x) + torch.log(x.exp()) + torch.relu(x) + x.relu()
print(y)
print(y.grad_fn.name())
y.sum().backward()
print(x.grad)
