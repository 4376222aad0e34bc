# graph: loss
# A small CNN trained for five steps on random images: conv, batch norm, pooling,
# a Sequential head, cross-entropy, SGD with momentum and weight decay, accuracy in
# eval mode under no_grad.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 2 * 2, 16), nn.ReLU(),
                                  nn.Linear(16, classes))

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        return self.head(x)


model = SmallCNN()
x = torch.randn(6, 1, 8, 8)
y = torch.tensor([0, 1, 2, 0, 1, 2])
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(5):
    model.train()
    opt.zero_grad()
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
        acc = (pred == y).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.4f} acc {acc:.2f}")
print(model.bn1.running_mean)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
print(logits.grad_fn.name(), logits.shape)
