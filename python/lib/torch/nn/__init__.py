"""torch.nn: Module, Parameter, the engine's layers and the losses."""

from .. import _unsupported
from .modules import (
    Module, Parameter, Linear, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d,
    Sequential, Flatten, Dropout, Sigmoid, Tanh, Softmax, MSELoss, CrossEntropyLoss, NLLLoss,
)
from . import functional, init


def __getattr__(name):
    raise _unsupported(f"'torch.nn.{name}'", AttributeError)
