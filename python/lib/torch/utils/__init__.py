"""torch.utils: its hooks' handle (torch.utils.hooks.RemovableHandle) and torch.utils.data."""

from .. import _unsupported
from . import data, hooks


def __getattr__(name):
    raise _unsupported(f"'torch.utils.{name}'", AttributeError)
