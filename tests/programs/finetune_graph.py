# graph: loss
# Fine-tuning: with every layer frozen and a new fc, the graph is the head's six nodes.
import torch
from torchvision.models import resnet18

torch.manual_seed(0)
model = resnet18()
for p in model.parameters():
    p.requires_grad = False
model.fc = torch.nn.Linear(512, 10)
loss = (model(torch.rand(1, 3, 64, 64)) - torch.rand(1, 10)).sum()


def walk(fn, depth=0):
    if fn is None:
        print("  " * depth + "None")
        return
    print("  " * depth + fn.name())
    for nxt, _ in fn.next_functions:
        walk(nxt, depth + 1)


walk(loss.grad_fn)
loss.backward()
print(model.fc.bias.grad.shape, model.conv1.weight.grad)
