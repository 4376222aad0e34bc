"""A key's elements: what x[key] picks, as flat offsets into x (row-major, in the
order of the result) and the result's shape, following PyTorch's (numpy's) rules
for ints, slices, None, ..., and one advanced index: a list of ints, an integer
tensor (any shape: its shape takes the indexed dim's place), or a bool mask over
one or more leading dims of the rest (its True elements, in order)."""

from . import _dtype


def _unsupported(what):
    from . import _unsupported as u
    return u(what)


def _is_advanced(k):
    from ._tensor import Tensor
    return isinstance(k, (list, Tensor))


def _as_index_tensor(k):
    from ._tensor import Tensor
    from ._functions import tensor
    if isinstance(k, Tensor):
        return k
    if any(isinstance(v, bool) for v in k):
        return tensor(k, dtype=_dtype.bool) if all(isinstance(v, bool) for v in k) else \
            tensor([int(v) for v in k])
    if any(isinstance(v, float) for v in k):
        raise IndexError("tensors used as indices must be long, byte or bool tensors")
    return tensor(k, dtype=_dtype.int64) if k else tensor([], dtype=_dtype.int64)


def _flat(t):
    values = t.tolist()
    if not isinstance(values, list):
        return [values]
    while values and isinstance(values[0], list):
        values = [v for row in values for v in row]
    return values


def elements(shape, key):
    """(result shape, offsets, advanced) for x[key] on a tensor of this shape."""
    shape = list(shape)
    keys = list(key) if isinstance(key, tuple) else [key]
    n_adv = sum(1 for k in keys if _is_advanced(k))
    if n_adv > 1:
        raise _unsupported("indexing with more than one list or tensor in the key")
    # Each dim's stride, for offsets.
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= shape[d]
    # How many dims each key entry consumes; the one Ellipsis takes the rest.
    adv = [_as_index_tensor(k) if _is_advanced(k) else None for k in keys]
    consumed = []
    for k, a in zip(keys, adv):
        if k is None or k is Ellipsis:
            consumed.append(0)
        elif a is not None and a.dtype is _dtype.bool:
            consumed.append(max(a.dim(), 1))
        else:
            consumed.append(1)
    if sum(1 for k in keys if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if sum(consumed) > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if Ellipsis in [k for k in keys if not _is_advanced(k)]:
        i = next(i for i, k in enumerate(keys) if k is Ellipsis and not _is_advanced(k))
        fill = len(shape) - sum(consumed)
        keys[i:i + 1] = [slice(None)] * fill
        adv[i:i + 1] = [None] * fill
        consumed[i:i + 1] = [1] * fill
    while sum(consumed) < len(shape):
        keys.append(slice(None))
        adv.append(None)
        consumed.append(1)
    if n_adv:
        # numpy: ints count as advanced indices too; apart from the array, they would
        # move its dims to the front.
        places = [i for i, k in enumerate(keys)
                  if adv[i] is not None or (isinstance(k, int) and not isinstance(k, bool))]
        if places != list(range(places[0], places[-1] + 1)):
            raise _unsupported("indexing with a list or tensor and an int apart from it")

    specs = []  # (contributions to the offset, the result's dims)
    dim = 0
    for k, a, c in zip(keys, adv, consumed):
        if k is None:
            specs.append(([0], [1]))
        elif a is not None and a.dtype is _dtype.bool:
            mshape = list(a.shape) or [1]
            if mshape != shape[dim:dim + c]:
                raise IndexError(f"The shape of the mask {list(a.shape)} at index {dim} does "
                                 f"not match the shape of the indexed tensor {shape} at index "
                                 f"{dim}")
            mask = _flat(a)
            contrib = []
            for flat_i, keep in enumerate(mask):
                if keep:
                    off, rest = 0, flat_i
                    for d in range(dim + c - 1, dim - 1, -1):
                        off += (rest % shape[d]) * strides[d]
                        rest //= shape[d]
                    contrib.append(off)
            specs.append((contrib, [len(contrib)]))
        elif a is not None:
            if a.dtype is _dtype.float32:
                raise IndexError("tensors used as indices must be long, byte or bool tensors")
            size = shape[dim]
            contrib = []
            for i in _flat(a):
                i = int(i)
                if not -size <= i < size:
                    raise IndexError(f"index {i} is out of bounds for dimension {dim} with "
                                     f"size {size}")
                contrib.append((i % size) * strides[dim])
            specs.append((contrib, list(a.shape)))
        elif isinstance(k, slice):
            start, stop, step = k.indices(shape[dim])
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            specs.append(([i * strides[dim] for i in range(start, stop, step)],
                          [len(range(start, stop, step))]))
        else:
            i = int(k)
            size = shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with "
                                 f"size {size}")
            specs.append(([(i % size) * strides[dim]], []))
        dim += c
    offsets = [0]
    out_shape = []
    for contrib, dims in specs:
        offsets = [o + c for o in offsets for c in contrib]
        out_shape += dims
    if len(out_shape) > 4:
        raise _unsupported("results of more than four dimensions")
    return out_shape, offsets, n_adv > 0
