"""torch.no_grad, enable_grad, set_grad_enabled: the engine's grad mode, per thread."""

import functools

import _gradlens


def is_grad_enabled():
    return _gradlens.is_grad_enabled()


class _GradMode:
    """A context manager and decorator that sets grad mode and restores it."""

    _enabled = True

    def __enter__(self):
        self._previous = _gradlens.set_grad_enabled(self._enabled)
        return None

    def __exit__(self, *exc):
        _gradlens.set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    _enabled = False


class enable_grad(_GradMode):
    _enabled = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(False) as a call sets the mode at once, as PyTorch's does."""

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._previous = _gradlens.set_grad_enabled(self._enabled)

    def __enter__(self):
        return None
