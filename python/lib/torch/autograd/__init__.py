"""torch.autograd: backward and grad over the engine."""

from .. import _unsupported
from .._grad_mode import no_grad, enable_grad, set_grad_enabled


def backward(tensors, grad_tensors=None, retain_graph=None):
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
        grad_tensors = [grad_tensors]
    grad_tensors = grad_tensors or [None] * len(tensors)
    for t, g in zip(tensors, grad_tensors):
        t.backward(g, retain_graph=retain_graph)


def __getattr__(name):
    raise _unsupported(f"'torch.autograd.{name}'", AttributeError)
