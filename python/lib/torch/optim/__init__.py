"""torch.optim."""

from .. import _unsupported


def __getattr__(name):
    raise _unsupported(f"'torch.optim.{name}'", AttributeError)
