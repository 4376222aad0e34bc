import torch
from torchvision.models import resnet18

torch.manual_seed(0)
model = resnet18()
frozen = ("conv1", "bn1", "layer1")                 # chosen in the module tree
for name, param in model.named_parameters():
    if any(name == f or name.startswith(f + ".") for f in frozen):
        param.requires_grad = False
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 1000)
optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

for step in range(1):
    optim.zero_grad(set_to_none=True)
    prediction = model(data)                  # forward pass
    loss = (prediction - labels).sum()
    print(f"step {step}: loss {loss.item():.3f}")
    loss.backward()                           # backward pass
    optim.step()                              # gradient descent
