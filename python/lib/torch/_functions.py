"""The functions of torch (and the methods of Tensor they back): each is one engine op,
or a way of making a tensor."""

import builtins
import math
import numbers
import struct

import _gradlens

from . import _dtype
from ._size import Size
from ._tensor import Tensor, _typed


def _unsupported(what, kind=None):
    from . import _unsupported as make
    return make(what, kind or NotImplementedError)


# --- Making tensors ---------------------------------------------------------------

def _size_args(size):
    """zeros(2, 3), zeros((2, 3)) and zeros([2, 3]) all mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(t, dtype, requires_grad):
    if dtype is not None:
        t = _typed(t, dtype)
    if requires_grad:
        t.requires_grad = True
    return t


def _flatten_data(data):
    """Nested lists (or numbers, or tensors) → (flat values, shape, inferred dtype)."""
    if isinstance(data, Tensor):
        return [float(v) for v in _flat(data.tolist())], tuple(data.shape), data.dtype
    if isinstance(data, (builtins.bool, numbers.Number)):
        return [data], (), _infer_dtype([data])
    if not isinstance(data, (list, tuple)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if len(data) == 0:
        return [], (0,), _dtype.float32
    parts = [_flatten_data(x) for x in data]
    inner = parts[0][1]
    for p in parts:
        if p[1] != inner:
            raise ValueError(f"expected sequence of length {inner[0] if inner else 0} at dim "
                             f"1 (got {p[1][0] if p[1] else 0})")
    flat = [v for p in parts for v in p[0]]
    return flat, (len(data),) + inner, _infer_dtype(flat)


def _flat(x):
    if isinstance(x, list):
        return [v for item in x for v in _flat(item)]
    return [x]


def _infer_dtype(values):
    if all(isinstance(v, builtins.bool) for v in values):
        return _dtype.bool
    if all(isinstance(v, numbers.Integral) for v in values):
        return _dtype.int64
    return _dtype.float32


def tensor(data, dtype=None, device=None, requires_grad=False):
    flat, shape, inferred = _flatten_data(data)
    dtype = dtype or inferred
    if not dtype.is_floating_point:
        flat = [int(v) for v in flat]
    t = _gradlens.from_list([float(v) for v in flat], shape, dtype._code)
    return _finish(t, None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = _infer_dtype([fill_value])
    return _finish(_gradlens.full(_size_args((size,)), float(fill_value), dtype._code),
                   None, requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _finish(_gradlens.full(_size_args(size), 0.0), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _finish(_gradlens.full(_size_args(size), 1.0), dtype, requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def rand(*size, requires_grad=False, dtype=None, generator=None, device=None):
    return _finish(_gradlens.random(_size_args(size), "uniform"), None, requires_grad)


def randn(*size, requires_grad=False, dtype=None, generator=None, device=None):
    return _finish(_gradlens.random(_size_args(size), "normal"), None, requires_grad)


def randint(low, high=None, size=None, dtype=None, requires_grad=False, device=None):
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _gradlens.randint(int(low), int(high), _size_args((size,)))


def zeros_like(t, dtype=None, requires_grad=False):
    return _finish(_gradlens.full(tuple(t.shape), 0.0, t.dtype._code), dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _finish(_gradlens.full(tuple(t.shape), 1.0, t.dtype._code), dtype, requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return _finish(_gradlens.full(tuple(t.shape), float(fill_value), t.dtype._code), dtype,
                   requires_grad)


def rand_like(t, requires_grad=False, dtype=None):
    return rand(*t.shape, requires_grad=requires_grad)


def randn_like(t, requires_grad=False, dtype=None):
    return randn(*t.shape, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """ATen's arange: the length is ceil((end - start) / step), element i is
    start + i*step computed in double."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    n = builtins.max(0, math.ceil((end - start) / step))
    if dtype is None:
        dtype = _infer_dtype([start, end, step])
    values = [start + i * step for i in range(n)]
    return tensor(values, dtype=dtype, requires_grad=requires_grad)


def _f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """ATen's linspace for float32, in float arithmetic: the first half counts up
    from start, the second half down from end."""
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = _f32(start), _f32(end)
    step = _f32((end - start) / (steps - 1)) if steps > 1 else 0.0
    halfway = steps // 2
    values = [_f32(start + _f32(step * i)) if i < halfway
              else _f32(end - _f32(step * (steps - i - 1))) for i in range(steps)]
    return tensor(values, dtype=dtype or _dtype.float32, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    m = n if m is None else m
    values = [1.0 if i == j else 0.0 for i in range(n) for j in range(m)]
    return _finish(_gradlens.from_list(values, (n, m), 0), dtype, requires_grad)


# --- Ops ----------------------------------------------------------------------------

def _unary(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(x).__name__}")
    return _gradlens.unary(name, x)


def exp(x):
    return _unary("exp", x)


def log(x):
    return _unary("log", x)


def relu(x):
    return _unary("relu", x)


def sin(x):
    return _unary("sin", x)


def cos(x):
    return _unary("cos", x)


def tanh(x):
    return _unary("tanh", x)


def sigmoid(x):
    return _unary("sigmoid", x)


def sqrt(x):
    return _unary("sqrt", x)


def abs(x):
    return _typed(_unary("abs", x), x.dtype)


def reciprocal(x):
    return _unary("reciprocal", x)


def clone(x):
    return _typed(_unary("clone", x), x.dtype)


def squeeze(x, dim=None):
    if dim is None:
        return _typed(_unary("squeeze", x), x.dtype)
    return _gradlens.dim_op("squeeze_dim", x, dim)


def unsqueeze(x, dim):
    return _gradlens.dim_op("unsqueeze", x, dim)


def softmax(x, dim):
    return _gradlens.dim_op("softmax", x, dim)


def log_softmax(x, dim):
    return _gradlens.dim_op("log_softmax", x, dim)


def transpose(x, dim0, dim1):
    return _gradlens.dim_op("transpose", x, dim0, dim1)


def permute(x, *dims):
    return _gradlens.shape_op("permute", x, _shape_args(dims))


def tensor_expand(x, *sizes):
    return _gradlens.shape_op("expand", x, _shape_args(sizes))


class _ReturnType(tuple):
    """torch.return_types.max / min: (values, indices), printed as PyTorch prints it."""

    _kind = "max"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return (f"torch.return_types.{self._kind}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


class _MaxReturn(_ReturnType):
    _kind = "max"


class _MinReturn(_ReturnType):
    _kind = "min"


def max(x, dim=None, keepdim=False):
    if dim is None:
        return _typed(_gradlens.dim_op("max", x, 0), x.dtype)
    return _MaxReturn(_gradlens.extremum("max", x, dim, keepdim))


def min(x, dim=None, keepdim=False):
    if dim is None:
        return _typed(_gradlens.dim_op("min", x, 0), x.dtype)
    return _MinReturn(_gradlens.extremum("min", x, dim, keepdim))


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return _gradlens.extremum("max", reshape(x.detach(), -1), 0, False)[1]
    return _gradlens.extremum("max", x.detach(), dim, keepdim)[1]


def argmin(x, dim=None, keepdim=False):
    if dim is None:
        return _gradlens.extremum("min", reshape(x.detach(), -1), 0, False)[1]
    return _gradlens.extremum("min", x.detach(), dim, keepdim)[1]


def clamp(x, min=None, max=None):
    return _gradlens.clamp(x, min, max)


clip = clamp


def cat(tensors, dim=0):
    return _gradlens.join("cat", list(tensors), dim)


def stack(tensors, dim=0):
    return _gradlens.join("stack", list(tensors), dim)


def mv(a, v):
    return _gradlens.binary("mv", a, v)


def dot(a, b):
    return _gradlens.binary("dot", a, b)


def bmm(a, b):
    return _gradlens.binary("bmm", a, b)


def neg(x):
    return -x


def _dims(dim, ndim):
    if isinstance(dim, int):
        dim = (dim,)
    return tuple(d + ndim if d < 0 else d for d in dim)


def sum(x, dim=None, keepdim=False, dtype=None):
    out_dtype = x.dtype if x.dtype.is_floating_point else _dtype.int64
    if dim is None:
        return _typed(_unary("sum", x), out_dtype)
    return _typed(_gradlens.reduce("sum", x, _dims(dim, x.dim()), keepdim), out_dtype)


def mean(x, dim=None, keepdim=False, dtype=None):
    if not x.dtype.is_floating_point:
        name = "Long" if x.dtype is _dtype.int64 else "Bool"
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {name}")
    if dim is None:
        return _unary("mean", x)
    return _gradlens.reduce("mean", x, _dims(dim, x.dim()), keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    if dim is not None or p not in ("fro", 2):
        raise _unsupported("norm with dim or p other than 2")
    return _unary("norm", x)


def numel(x):
    return x.numel()


def add(a, b, alpha=1):
    return a + (b * alpha if alpha != 1 else b)


def sub(a, b, alpha=1):
    return a - (b * alpha if alpha != 1 else b)


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def pow(a, exponent):
    if not isinstance(a, Tensor):
        return exponent.__rpow__(a)
    return a ** exponent


def square(x):
    return x ** 2


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def view(x, *shape):
    return _gradlens.view(x, _shape_args(shape))


def reshape(x, *shape):
    return _gradlens.shape_op("reshape", x, _shape_args(shape))


def flatten(x, start_dim=0, end_dim=-1):
    nd = x.dim()
    if nd == 0:
        return view(x, 1)
    start_dim = start_dim + nd if start_dim < 0 else start_dim
    end_dim = end_dim + nd if end_dim < 0 else end_dim
    if start_dim == end_dim:
        return x
    shape = list(x.shape)
    merged = 1
    for d in shape[start_dim:end_dim + 1]:
        merged *= d
    return view(x, tuple(shape[:start_dim]) + (merged,) + tuple(shape[end_dim + 1:]))


def t(x):
    if x.dim() < 2:
        return x
    return _typed(_gradlens.t(x), x.dtype)


def mm(a, b):
    return _gradlens.binary("mm", a, b)


def matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        return NotImplemented
    return _gradlens.binary("matmul", a, b)




def tensor_clamp_(x, min=None, max=None):
    x._assign_values(_gradlens.clamp(x.detach(), min, max))
    return x




def equal(a, b):
    return a.equal(b)


def is_tensor(x):
    return isinstance(x, Tensor)
