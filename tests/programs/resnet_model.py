# torchvision's resnet18: names, sizes, and the head replaced.
import torch
from torchvision.models import resnet18

torch.manual_seed(0)
model = resnet18()
names = [n for n, _ in model.named_parameters()]
print(len(names), names[:4], names[-2:])
print(sum(p.numel() for p in model.parameters()))
print(model.fc)
print(model.layer1[0])
print(model.conv1.weight.shape, model.layer4[1].bn2.bias.shape)
model.fc = torch.nn.Linear(512, 10)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
print(model.fc.weight[0][:0].shape if False else model.fc.weight.shape)
print(model.training, model.eval().training, model.layer2.training)
