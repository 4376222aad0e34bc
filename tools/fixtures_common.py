"""fixtures_common.py — what the fixture and check scripts in tools/ share.

A module, not a script: the scripts import it from their own folder (Python puts
a script's folder first on sys.path), e.g. /usr/bin/python3 tools/make-fixtures.py.
"""
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, ResNet

# torchvision's ImageNet normalisation: transforms.Normalize(MEAN, STD).
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def narrow_resnet18(width, num_classes):
    """torchvision's ResNet(BasicBlock, [2, 2, 2, 2]) with stage widths width, 2w,
    4w, 8w: torchvision's own classes and module names, only narrower."""
    m = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    m.inplanes = width
    m.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(width)
    m.layer1 = m._make_layer(BasicBlock, width, 2)
    m.layer2 = m._make_layer(BasicBlock, 2 * width, 2, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 4 * width, 2, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 8 * width, 2, stride=2)
    m.fc = nn.Linear(8 * width, num_classes)
    return m
