"""torch.Tensor: the engine's tensor (_gradlens.TensorBase) with PyTorch's operators.

Every computation is the engine's: this file only chooses which engine op an
operator means, as PyTorch would (a Python number is a scalar operand, a None slot
in next_functions), and which dtype the result has (PyTorch's type promotion for
float32, int64 and bool).
"""

import numbers

import _gradlens

from . import _dtype
from ._size import Size


def _is_number(x):
    return isinstance(x, numbers.Number) and not isinstance(x, Tensor)


def _result_dtype(a, b):
    """PyTorch's promotion among float32, int64 and bool: a float operand wins;
    a Python float with an integer tensor gives float32."""
    da = a.dtype if isinstance(a, Tensor) else None
    db = b.dtype if isinstance(b, Tensor) else None
    kinds = [d for d in (da, db) if d is not None]
    if _dtype.float32 in kinds:
        return _dtype.float32
    for x in (a, b):
        if isinstance(x, float):
            return _dtype.float32
    if _dtype.int64 in kinds:
        return _dtype.int64
    for x in (a, b):
        if isinstance(x, int) and not isinstance(x, bool) and not isinstance(x, Tensor):
            return _dtype.int64
    return kinds[0] if kinds else _dtype.float32


def _typed(t, dtype):
    t._dtype_code = dtype._code
    return t


class Tensor(_gradlens.TensorBase):
    """A float32, int64 or bool tensor of up to four dimensions."""

    __hash__ = object.__hash__
    __array_priority__ = 1000

    # --- what it is -------------------------------------------------------------

    @property
    def dtype(self):
        return _dtype.from_code(self._dtype_code)

    @property
    def shape(self):
        return Size(_gradlens.TensorBase.shape.__get__(self))

    def size(self, dim=None):
        shape = self.shape
        return shape if dim is None else shape[dim]

    @property
    def ndim(self):
        return self.dim()

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        self._assign_values(value)

    @property
    def device(self):
        from . import device
        return device("cpu")

    @property
    def T(self):
        return _gradlens.shape_op("T", self, ())

    def __repr__(self):
        return _gradlens.TensorBase.__repr__(self)

    __str__ = __repr__

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype is _dtype.float32:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec):
        if self.dim() == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def type(self):
        return {"float32": "torch.FloatTensor", "int64": "torch.LongTensor",
                "bool": "torch.BoolTensor"}[self.dtype._name]

    # --- dtype and device ------------------------------------------------------------

    def to(self, *args, dtype=None, device=None, **kwargs):
        """x.to(dtype), x.to("cpu"), x.to(device, dtype), x.to(other): x itself when
        nothing changes, else a new tensor of that dtype (as PyTorch converts)."""
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                device = a
        if device is not None:
            from . import device as _device
            _device(device)            # anything but the CPU: its RuntimeError
        if dtype is None or dtype is self.dtype:
            return self
        return self._cast(dtype._code)

    def float(self):
        return self.to(_dtype.float32)

    def long(self):
        return self.to(_dtype.int64)

    def bool(self):
        return self.to(_dtype.bool)

    def cpu(self):
        return self

    # --- arithmetic: one engine op each ------------------------------------------

    def _binary(self, other, name, reverse=False):
        dtype = _result_dtype(self, other)
        if _is_number(other):
            if reverse:
                if name in ("sub", "div"):
                    return _typed(_gradlens.scalar("r" + name, self, other), dtype)
                return _typed(_gradlens.scalar(name, self, other), dtype)
            else:
                return _typed(_gradlens.scalar(name, self, other), dtype)
        elif not isinstance(other, Tensor):
            return NotImplemented
        a, b = (other, self) if reverse else (self, other)
        return _typed(_gradlens.binary(name, a, b), dtype)

    def __add__(self, other):
        return self._binary(other, "add")

    def __radd__(self, other):
        return self._binary(other, "add", reverse=True)

    def __sub__(self, other):
        return self._binary(other, "sub")

    def __rsub__(self, other):
        return self._binary(other, "sub", reverse=True)

    def __mul__(self, other):
        return self._binary(other, "mul")

    def __rmul__(self, other):
        return self._binary(other, "mul", reverse=True)

    def __truediv__(self, other):
        out = self._binary(other, "div")
        return _typed(out, _dtype.float32) if out is not NotImplemented else out

    def __rtruediv__(self, other):
        out = self._binary(other, "div", reverse=True)
        return _typed(out, _dtype.float32) if out is not NotImplemented else out

    def __pow__(self, exponent):
        if _is_number(exponent):
            return _typed(_gradlens.scalar("pow", self, exponent), _result_dtype(self, exponent))
        if not isinstance(exponent, Tensor):
            return NotImplemented
        return _typed(_gradlens.binary("pow", self, exponent), _result_dtype(self, exponent))

    def __rpow__(self, base):
        if not _is_number(base):
            return NotImplemented
        return _gradlens.scalar("rpow", self, base)

    def __neg__(self):
        return _typed(_gradlens.unary("neg", self), self.dtype)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        from ._functions import matmul
        return matmul(self, other)

    def __rmatmul__(self, other):
        from ._functions import matmul
        return matmul(other, self)

    # In-place arithmetic rebinds, as PyTorch's records a new node for a non-leaf;
    # on a leaf that requires grad PyTorch refuses it outside no_grad.
    def _inplace(self, other, name):
        from . import is_grad_enabled
        if self.is_leaf and self.requires_grad and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if not self.requires_grad or not is_grad_enabled():
            self._assign_values(self._binary(other, name))
            return self
        return self._binary(other, name)

    def __iadd__(self, other):
        return self._inplace(other, "add")

    def __isub__(self, other):
        return self._inplace(other, "sub")

    def __imul__(self, other):
        return self._inplace(other, "mul")

    def __itruediv__(self, other):
        return self._inplace(other, "div")

    def add_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, "add")

    def sub_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, "sub")

    def mul_(self, other):
        return self._inplace(other, "mul")

    def div_(self, other):
        return self._inplace(other, "div")

    def zero_(self):
        self._assign_values(_gradlens.full((), 0.0))
        return self

    def fill_(self, value):
        self._assign_values(_gradlens.full((), float(value)))
        return self

    def copy_(self, src):
        self._assign_values(src)
        return self

    def normal_(self, mean=0.0, std=1.0):
        self._assign_values(_gradlens.random(tuple(self.shape), "normal", mean, std))
        return self

    def uniform_(self, a=0.0, b=1.0):
        self._assign_values(_gradlens.random(tuple(self.shape), "uniform", a, b))
        return self

    def bernoulli_(self, p=0.5):
        """Each element 1 with probability p (a float), else 0: PyTorch's draws."""
        if isinstance(p, Tensor):
            from . import _unsupported
            raise _unsupported("bernoulli_ with a tensor of probabilities")
        self._assign_values(_gradlens.random(tuple(self.shape), "bernoulli", float(p)))
        return self

    def register_hook(self, hook):
        """hook(grad) runs when the gradient reaches this tensor in backward; what it
        returns (a tensor of the same shape) replaces the gradient. The engine calls
        it (autograd.h's gradient hooks), in the order hooks and retain_grad() were
        asked for, as PyTorch 1.13 does."""
        from .utils.hooks import RemovableHandle
        return RemovableHandle(self, _gradlens._add_hook(self, hook))

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    # --- indexing: x[i], x[a:b:c], x[i, :, None, ...] ------------------------------------

    def __getitem__(self, key):
        if isinstance(key, Tensor) and key.dtype is not _dtype.float32 and key.dim() == 0:
            key = int(key)
        keys = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, (Tensor, list)) for k in keys):
            # Advanced indexing: one IndexBackward0 over the picked elements.
            from ._indexing import elements
            shape, offsets, _ = elements(self.shape, key)
            return _typed(_gradlens.index(self, offsets, shape), self.dtype)
        n_real = sum(1 for k in keys if k is not None and k is not Ellipsis)
        out, dim = self, 0
        for k in keys:
            if k is Ellipsis:
                dim += self.dim() - n_real
            elif k is None:
                out = _gradlens.dim_op("unsqueeze", out, dim)
                dim += 1
            elif isinstance(k, slice):
                if k.step is not None and k.step <= 0:
                    raise ValueError("step must be greater than zero")
                size = out.shape[dim]
                start = 0 if k.start is None else int(k.start)
                stop = size if k.stop is None else int(k.stop)
                out = _gradlens.dim_op("slice", out, dim, start, stop, int(k.step or 1))
                dim += 1
            else:
                index = int(k)
                size = out.shape[dim] if dim < out.dim() else 0
                if not -size <= index < size:
                    raise IndexError(f"index {index} is out of bounds for dimension {dim} "
                                     f"with size {size}")
                out = _gradlens.dim_op("select", out, dim, index)
        return _typed(out, self.dtype) if out is not self else _gradlens.dim_op(
            "slice", self, 0, 0, self.shape[0], 1)

    def __setitem__(self, key, value):
        """x[key] = value, in place: CopySlices for ints and slices,
        IndexPutBackward0 for a list, an index tensor or a mask (ops-index.c)."""
        from ._indexing import elements
        from ._functions import tensor
        if isinstance(key, Tensor) and key.dtype is not _dtype.float32 and key.dim() == 0:
            key = int(key)
        shape, offsets, advanced = elements(self.shape, key)
        if _is_number(value):
            if self.dtype is _dtype.int64:
                value = int(value)
            elif self.dtype is _dtype.bool:
                value = bool(value)
            value = tensor(value, dtype=self.dtype)
        elif not isinstance(value, Tensor):
            value = tensor(value, dtype=self.dtype)
        _gradlens.index_put_(self, offsets, shape, value, advanced)

    # --- comparisons: bool tensors -------------------------------------------------

    def _compare(self, other, op):
        if not (_is_number(other) or isinstance(other, Tensor)):
            return NotImplemented
        return _gradlens.compare(op, self, other)

    def __eq__(self, other):
        return self._compare(other, "eq")

    def __ne__(self, other):
        return self._compare(other, "ne")

    def __lt__(self, other):
        return self._compare(other, "lt")

    def __le__(self, other):
        return self._compare(other, "le")

    def __gt__(self, other):
        return self._compare(other, "gt")

    def __ge__(self, other):
        return self._compare(other, "ge")

    def eq(self, other):
        return self == other

    def equal(self, other):
        return self.shape == other.shape and bool((self == other).all())

    def all(self):
        return _gradlens.compare("eq", _gradlens.unary("sum", self == 0), 0)

    def any(self):
        return _gradlens.compare("ne", _gradlens.unary("sum", self != 0), 0)

    # --- methods that are functions of torch ---------------------------------------

    def __getattr__(self, name):
        from . import _functions
        fn = getattr(_functions, "tensor_" + name, None) or getattr(_functions, name, None)
        if fn is None or name.startswith("_"):
            from . import _unsupported
            raise _unsupported("Tensor." + name, AttributeError)
        return lambda *args, **kwargs: fn(self, *args, **kwargs)


_gradlens._set_tensor_class(Tensor)
