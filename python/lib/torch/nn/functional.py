"""torch.nn.functional: each function is one engine op (or PyTorch's composition of
them, recorded as PyTorch records it)."""

import _gradlens

from .. import _unsupported
from .._tensor import Tensor


def _engine_op(name, *args):
    fn = getattr(_gradlens, name, None)
    if fn is None:
        raise _unsupported(f"torch.nn.functional.{name}")
    return fn(*args)


def relu(x, inplace=False):
    return _gradlens.unary("relu", x)


def linear(x, weight, bias=None):
    if x.dim() == 2:
        return _gradlens.linear(x, weight, bias)
    raise _unsupported(f"F.linear of a {x.dim()}-D input (GradLens's Linear takes (N, in))")


def sigmoid(x):
    return _engine_op("sigmoid", x)


def tanh(x):
    return _engine_op("tanh", x)


def softmax(x, dim=None):
    return _engine_op("softmax", x, dim)


def log_softmax(x, dim=None):
    return _engine_op("log_softmax", x, dim)


def mse_loss(input, target, reduction="mean"):
    return _engine_op("mse_loss", input, target, reduction)


def nll_loss(input, target, reduction="mean"):
    return _engine_op("nll_loss", input, target, reduction)


def cross_entropy(input, target, reduction="mean"):
    return _engine_op("cross_entropy", input, target, reduction)
