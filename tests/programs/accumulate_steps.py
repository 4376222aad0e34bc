# Without zero_grad, gradients accumulate across steps; with it they do not.
import torch

w = torch.tensor([1.0, 2.0], requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for step in range(3):
    loss = (w * w).sum()
    loss.backward()
    print(step, w.grad)
opt.zero_grad(set_to_none=True)  # 2.x default; 1.13 zeroed in place
print(w.grad)
for step in range(2):
    opt.zero_grad(set_to_none=False) if w.grad is not None else None
    (3 * w).sum().backward()
    print(step, w.grad)
