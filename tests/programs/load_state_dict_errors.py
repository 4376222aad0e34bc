# load_state_dict's checks, in PyTorch's words: missing, unexpected and mis-shaped keys.
import torch

torch.manual_seed(0)
model = torch.nn.Linear(2, 3)
sd = model.state_dict()
try:
    model.load_state_dict({"weight": sd["weight"], "extra": torch.ones(1)})
except RuntimeError as e:
    print("RuntimeError:", e)
print(model.load_state_dict({"weight": sd["weight"] * 0, "extra": torch.ones(1)}, strict=False))
print(model.weight)
try:
    model.load_state_dict({"weight": torch.ones(2, 2), "bias": torch.ones(3)})
except RuntimeError as e:
    print("RuntimeError:", e)
print(model.bias)
