# torch.optim.SGD with momentum, dampening, weight decay and Nesterov, step by step.
import torch

for kwargs in [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.5),
               dict(lr=0.1, momentum=0.9, weight_decay=0.01),
               dict(lr=0.1, momentum=0.9, nesterov=True)]:
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = torch.optim.SGD([w], **kwargs)
    for _ in range(3):
        opt.zero_grad(set_to_none=True)
        loss = (w ** 2).sum() + w.sum()
        loss.backward()
        opt.step()
    print(kwargs, w)
