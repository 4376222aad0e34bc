# torch.optim.Adam: PyTorch 1.13's update, float for float (bias corrections, eps, amsgrad).
import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
x = torch.randn(16, 3)
y = (x[:, :1] * 2 - x[:, 1:2]).sin()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print(optimizer)
for step in range(20):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 5 == 0 or step == 19:
        print(step, f"{loss.item():.6f}")
print(model[2].weight)
state = optimizer.state[model[2].bias]
# exp_avg_sq is 2.41395e-06 here: its fifth digit is the CPU's rounding (PyTorch on
# an AMD Zen 4 prints 2.4140e-06, on an Intel Xeon 2.4139e-06), so four digits.
print(sorted(state), state["step"], state["exp_avg"], f'{state["exp_avg_sq"].item():.3e}')

for kwargs in [dict(lr=0.1, betas=(0.8, 0.99)), dict(lr=0.05, weight_decay=0.1),
               dict(lr=0.1, amsgrad=True), dict(lr=0.1, eps=1e-3, maximize=True)]:
    torch.manual_seed(1)
    w = torch.randn(5, requires_grad=True)
    opt = torch.optim.Adam([w], **kwargs)
    for _ in range(6):
        opt.zero_grad()
        ((w - 1) ** 2 * torch.arange(1., 6.)).sum().backward()
        opt.step()
    print(kwargs, w)

# A parameter whose .grad is None is skipped and gets no state.
a = torch.ones(2, requires_grad=True)
b = torch.ones(2, requires_grad=True)
opt = torch.optim.Adam([a, b], lr=0.5)
(a * 3).sum().backward()
opt.step()
print(a, b, len(opt.state))

for bad in [dict(lr=-1), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(eps=-1e-8),
            dict(weight_decay=-0.5)]:
    try:
        torch.optim.Adam([a], **bad)
    except ValueError as e:
        print("ValueError:", e)
