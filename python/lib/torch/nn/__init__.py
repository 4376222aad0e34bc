"""torch.nn (the layers come with the engine's modules)."""

from .. import _unsupported


def __getattr__(name):
    raise _unsupported(f"'torch.nn.{name}'", AttributeError)
