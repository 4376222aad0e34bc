"""torchvision: its resnet18, on GradLens's engine."""

from . import models
