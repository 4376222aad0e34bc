"""torch.autograd: backward and grad over the engine."""

import _gradlens

from .. import _unsupported
from .._tensor import Tensor
from .._grad_mode import no_grad, enable_grad, set_grad_enabled


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """One backward pass from every tensor at once (autograd.h's autograd_backward):
    a node two of them reach runs once, on the sum of their gradients."""
    if create_graph or inputs is not None:
        raise NotImplementedError("GradLens's torch: backward(create_graph=True) and "
                                  "backward(inputs=...) are not supported")
    tensors = _tensors(tensors)
    if grad_tensors is not None:
        grad_tensors = _tensors(grad_tensors) if not isinstance(grad_tensors, (list, tuple)) \
            else tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    _gradlens._backward(tensors, grad_tensors, bool(retain_graph))


def _tensors(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, is_grads_batched=False):
    """The gradients of outputs with respect to inputs, as a tuple; .grad stays as it
    was. The engine's backward runs only the nodes on a path to an input
    (autograd.h's autograd_grad)."""
    if create_graph:
        raise NotImplementedError("GradLens's torch: torch.autograd.grad(create_graph=True) is "
                                  "not supported: the engine's backward records no graph, so "
                                  "there is no double backward")
    if is_grads_batched:
        raise NotImplementedError("GradLens's torch: torch.autograd.grad(is_grads_batched=True) "
                                  "is not supported")
    outputs = _tensors(outputs)
    inputs = _tensors(inputs)
    if grad_outputs is not None:
        grad_outputs = _tensors(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    return _gradlens._grad(outputs, inputs, grad_outputs, bool(retain_graph),
                           bool(allow_unused))


def __getattr__(name):
    raise _unsupported(f"'torch.autograd.{name}'", AttributeError)
