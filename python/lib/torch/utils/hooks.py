"""torch.utils.hooks.RemovableHandle: what Tensor.register_hook returns."""

import weakref

import _gradlens


class RemovableHandle:
    """handle.remove() takes the hook away; a second remove() does nothing. It keeps
    only a weak reference to the tensor, as PyTorch's keeps one to its hooks."""

    next_id = 0

    def __init__(self, tensor, engine_id):
        self._tensor = weakref.ref(tensor)
        self._engine_id = engine_id
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self):
        tensor = self._tensor()
        if tensor is not None and self._engine_id:
            _gradlens._remove_hook(tensor, self._engine_id)
        self._engine_id = 0

    def __enter__(self):
        return self

    def __exit__(self, type, value, tb):
        self.remove()
