"""torch.dtype: the three dtypes GradLens's tensors have (engine/tensor.h's TensorDType)."""


class dtype:
    def __init__(self, name, code, is_floating_point):
        self._name = name
        self._code = code
        self.is_floating_point = is_floating_point

    def __repr__(self):
        return "torch." + self._name

    def __reduce__(self):
        return self._name


float32 = dtype("float32", 0, True)
int64 = dtype("int64", 1, False)
bool = dtype("bool", 2, False)

_by_code = {d._code: d for d in (float32, int64, bool)}


def from_code(code):
    return _by_code[code]
