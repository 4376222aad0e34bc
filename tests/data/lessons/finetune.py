import torch
from torchvision.models import resnet18

torch.manual_seed(1)
model = resnet18()
for param in model.parameters():
    param.requires_grad = False
model.fc = torch.nn.Linear(512, 10)
data = torch.rand(1, 3, 64, 64)
labels = torch.rand(1, 10)
optim = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

for step in range(2):
    optim.zero_grad(set_to_none=True)
    prediction = model(data)                  # forward pass
    loss = (prediction - labels).sum()
    print(f"step {step}: loss {loss.item():.3f}")
    loss.backward()                           # backward pass
    optim.step()                              # gradient descent
