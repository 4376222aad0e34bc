"""GradLens's torch: PyTorch's API over GradLens's engine.

`import torch` in a program GradLens runs means this package, never a PyTorch
installed on the machine. Tensors, ops, the autograd graph, modules and SGD are the
engine's (the _gradlens extension); these files only give them PyTorch's names.
What it does not have raises an error that names it.
"""

import _gradlens

from ._dtype import dtype, float32, int64, bool
from ._size import Size
from ._tensor import Tensor
from ._functions import (
    tensor, full, zeros, ones, empty, rand, randn, randint, zeros_like, ones_like, full_like,
    rand_like, randn_like, arange, linspace, eye,
    exp, log, relu, neg, sum, mean, norm, numel, add, sub, mul, div, pow, square,
    view, reshape, flatten, t, mm, matmul, clone, equal, is_tensor,
    sin, cos, tanh, sigmoid, sqrt, abs, reciprocal, squeeze, unsqueeze, softmax, log_softmax,
    transpose, permute, max, min, argmax, argmin, clamp, clip, cat, stack, mv, dot, bmm,
)
from ._grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .serialization import save, load, FloatStorage, LongStorage, BoolStorage

float = float32
long = int64
__version__ = "1.13.1+gradlens"

FloatTensor = Tensor


def _unsupported(what, kind=NotImplementedError):
    return kind(f"GradLens's torch has no {what} (supported: tensors of float32, int64 and "
                "bool, their arithmetic, reductions, matmul, autograd, torch.nn's layers and "
                "losses, torch.optim.SGD and Adam, torchvision.models.resnet18)")


class device:
    def __init__(self, name="cpu"):
        if str(name) != "cpu":
            raise RuntimeError(f"GradLens's torch runs on the CPU only, not on {name}")
        self.type = "cpu"

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"


class Generator:
    """What torch.manual_seed returns: the default CPU generator."""

    def manual_seed(self, seed):
        manual_seed(seed)
        return self

    def initial_seed(self):
        return _gradlens.initial_seed()


default_generator = Generator()


def manual_seed(seed):
    _gradlens.manual_seed(int(seed))
    return default_generator


def initial_seed():
    return _gradlens.initial_seed()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol·|other| everywhere (broadcast), as a Python bool."""
    if equal_nan:
        raise _unsupported("allclose(equal_nan=True)")
    return ((input - other).abs() <= atol + rtol * other.abs()).all().item()


def set_printoptions(**kwargs):
    raise _unsupported("set_printoptions")


def __getattr__(name):
    raise _unsupported(f"'{name}'", AttributeError)


from . import autograd, nn, optim, utils  # noqa: E402  (they import torch themselves)
