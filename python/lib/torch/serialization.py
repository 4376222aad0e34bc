"""torch.save and torch.load for state dicts.

torch.load reads a .pth file (PyTorch's zip format, or the legacy one) or a
.safetensors file with the engine's readers (pth.h, state-dict.h), which never call
anything a pickle names, and returns an OrderedDict of tensors, so that
`model.load_state_dict(torch.load("w.pth"))` works. torch.save writes what
PyTorch 1.13 writes for a state dict: a zip of stored entries, NAME/data.pkl (the
OrderedDict pickled with protocol 2, each tensor a torch._utils._rebuild_tensor_v2
of a storage named by a persistent id), NAME/data/0, 1, ... (the storages,
little-endian) and NAME/version ("3"); PyTorch loads it.
"""

import collections
import io
import os
import pickle
import zipfile

import _gradlens

from . import _dtype
from ._tensor import Tensor


class FloatStorage:
    """The storage types a .pth file's pickle names (torch.FloatStorage, ...)."""


class LongStorage:
    pass


class BoolStorage:
    pass


for _cls in (FloatStorage, LongStorage, BoolStorage):
    _cls.__module__ = "torch"

_STORAGE = {"float32": FloatStorage, "int64": LongStorage, "bool": BoolStorage}


class _Storage:
    def __init__(self, key, tensor):
        self.key = key
        self.tensor = tensor


class _TensorRef:
    """What a tensor pickles as: _rebuild_tensor_v2(storage, 0, size, stride,
    requires_grad, OrderedDict()), contiguous, one storage each."""

    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        from ._utils import _rebuild_tensor_v2
        t = self.storage.tensor
        size = tuple(t.shape)
        stride, step = [], 1
        for n in reversed(size):
            stride.insert(0, step)
            step *= n
        return (_rebuild_tensor_v2,
                (self.storage, 0, size, tuple(stride), False, collections.OrderedDict()))


def _path_of(f, what):
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(f)
    raise NotImplementedError(f"GradLens's torch: torch.{what} takes a file name, not "
                              f"{type(f).__name__}")


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True):
    path = _path_of(f, "save")
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()):
        raise NotImplementedError("GradLens's torch: torch.save saves a state dict (a dict of "
                                  "names to tensors) only, not "
                                  f"{type(obj).__name__}")
    storages = []

    def persistent_id(o):
        if isinstance(o, _Storage):
            t = o.tensor
            return ("storage", _STORAGE[t.dtype._name], o.key, "cpu", t.numel())
        return None

    refs = type(obj)()
    for name, t in obj.items():
        storage = _Storage(str(len(storages)), t.detach())
        storages.append(storage)
        refs[name] = _TensorRef(storage)
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle_protocol)
    pickler.persistent_id = persistent_id
    pickler.dump(refs)

    archive = os.path.splitext(os.path.basename(path))[0] or "archive"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", buf.getvalue())
        for s in storages:
            z.writestr(f"{archive}/data/{s.key}", _gradlens.tensor_bytes(s.tensor))
        z.writestr(f"{archive}/version", "3\n")


def load(f, map_location=None, pickle_module=None, *, weights_only=False, **pickle_load_args):
    path = _path_of(f, "load")
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise RuntimeError(f"GradLens's torch runs on the CPU only, not on {map_location}")
    if not os.path.exists(path):
        # What PyTorch's open() raises.
        raise FileNotFoundError(2, "No such file or directory", path)
    out = collections.OrderedDict()
    for name, t in _gradlens.load_state_dict(path):
        out[name] = t
    return out
