"""torch.nn.functional: each function is one engine op (or PyTorch's composition of
them, recorded as PyTorch records it)."""

import _gradlens

from .. import _unsupported
from .._tensor import Tensor


def relu(x, inplace=False):
    return _gradlens.unary("relu", x)


def linear(x, weight, bias=None):
    if x.dim() == 2:
        return _gradlens.linear(x, weight, bias)
    raise _unsupported(f"F.linear of a {x.dim()}-D input (GradLens's Linear takes (N, in))")


def sigmoid(x):
    return _gradlens.unary("sigmoid", x)


def tanh(x):
    return _gradlens.unary("tanh", x)


def _dim(dim):
    if dim is None:
        raise _unsupported("softmax without dim= (PyTorch's implicit choice is deprecated)")
    return dim


def softmax(x, dim=None):
    return _gradlens.dim_op("softmax", x, _dim(dim))


def log_softmax(x, dim=None):
    return _gradlens.dim_op("log_softmax", x, _dim(dim))


def mse_loss(input, target, reduction="mean"):
    return _gradlens.loss("mse_loss", input, target, reduction)


def nll_loss(input, target, reduction="mean"):
    return _gradlens.loss("nll_loss", input, target, reduction)


def cross_entropy(input, target, reduction="mean"):
    return _gradlens.loss("cross_entropy", input, target, reduction)
