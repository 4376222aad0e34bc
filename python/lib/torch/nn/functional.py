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


def dropout(input, p=0.5, training=True, inplace=False):
    """ATen's CPU dropout: the input itself when not training (or p is 0), else
    input · noise, noise = bernoulli(1 − p) / (1 − p): MulBackward0."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if inplace:
        raise _unsupported("dropout(inplace=True)")
    if p == 0 or not training or input.numel() == 0:
        return input
    from .. import zeros, zeros_like
    if p == 1:
        return input * zeros(())
    noise = zeros_like(input).bernoulli_(1 - p)
    noise.div_(1 - p)
    return input * noise


def one_hot(tensor, num_classes=-1):
    """Class indices (int64) to rows of 0s and a 1: int64, never recorded."""
    from .. import int64, zeros
    if tensor.dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor.")
    values = tensor.tolist() if tensor.dim() > 0 else [tensor.item()]
    flat = list(_flatten(values))
    if num_classes == -1:
        num_classes = max(flat) + 1 if flat else 0
    if flat and (min(flat) < 0 or max(flat) >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if flat and max(flat)
                           >= num_classes else "Class values must be non-negative.")
    out = zeros(len(flat), num_classes, dtype=int64)
    for row, c in enumerate(flat):
        out[row, c] = 1
    return out.reshape(*tensor.shape, num_classes)


def _flatten(values):
    for v in values:
        if isinstance(v, list):
            yield from _flatten(v)
        else:
            yield v


def __getattr__(name):
    raise _unsupported(f"'torch.nn.functional.{name}'", AttributeError)
