# torch.save(model.state_dict(), path) and model.load_state_dict(torch.load(path)).
import os
import tempfile

import torch

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                            torch.nn.Flatten(), torch.nn.Linear(8, 3))
x = torch.randn(4, 1, 4, 4)
model(x)                                   # batch norm's running statistics move
folder = tempfile.mkdtemp()
path = os.path.join(folder, "weights.pth")
torch.save(model.state_dict(), path)

state = torch.load(path)
print(type(state).__name__, list(state))
print(state["1.running_mean"], state["1.num_batches_tracked"])
print(state["4.bias"].dtype, state["1.num_batches_tracked"].dtype, state["4.weight"].requires_grad)

torch.manual_seed(1)
copy = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                           torch.nn.Flatten(), torch.nn.Linear(8, 3))
print(copy.load_state_dict(torch.load(path)))
model.eval()
copy.eval()
print(torch.equal(model(x), copy(x)), copy(x)[0])

try:
    torch.load(os.path.join(folder, "missing.pth"))
except FileNotFoundError as e:
    print("FileNotFoundError:", e.strerror)
os.remove(path)
os.rmdir(folder)
