"""torch.utils: only its hooks' handle (torch.utils.hooks.RemovableHandle)."""

from .. import _unsupported
from . import hooks


def __getattr__(name):
    raise _unsupported(f"'torch.utils.{name}'", AttributeError)
