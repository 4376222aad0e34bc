"""torchvision.models.resnet18: the engine's resnet18 (torchvision's names, its
initialisation drawn from torch's default generator), as torch.nn modules."""

import _gradlens

from torch import _unsupported
from torch.nn import modules as _m

_KINDS = {
    "Conv2d": _m.Conv2d, "BatchNorm2d": _m.BatchNorm2d, "ReLU": _m.ReLU,
    "MaxPool2d": _m.MaxPool2d, "AdaptiveAvgPool2d": _m.AdaptiveAvgPool2d,
    "Linear": _m.Linear, "Sequential": _m.Sequential,
}


class BasicBlock(_m._EngineModule):
    expansion = 1

    def forward(self, x):
        if self._all_engine():
            return _gradlens.module_forward(self._engine, x)
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if "downsample" in self._modules:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(_m._EngineModule):
    def forward(self, x):
        if self._all_engine():
            return _gradlens.module_forward(self._engine, x)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        from torch import flatten
        return self.fc(flatten(self.avgpool(x), 1))


def _wrap(engine):
    """The Python module tree over an engine module tree, class by kind."""
    kind = _gradlens.module_info(engine)[0]
    cls = {"BasicBlock": BasicBlock, "ResNet": ResNet}.get(kind) or _KINDS[kind]
    m = cls.__new__(cls)
    _m.Module.__init__(m)
    for name, child in m._adopt(engine):
        m._modules[name] = _wrap(child)
    if cls in (BasicBlock, ResNet):
        object.__setattr__(m, "_engine_children", tuple(m._modules))
    return m


def resnet18(weights=None, progress=True, num_classes=1000, **kwargs):
    if weights is not None:
        raise _unsupported("resnet18(weights=...) in a program yet (load a state dict with "
                           "model.load_state_dict)")
    return _wrap(_gradlens.new_module("resnet18", num_classes))
