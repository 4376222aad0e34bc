#!/usr/bin/python3
"""Makes tests/data/ops/ops.json, the PyTorch side of tests/test-ops-pytorch.c.

    /usr/bin/python3 tests/data/ops/make-ops-fixtures.py     # PyTorch 1.13 (Debian)

Each case runs a small chain of ops on seeded inputs and records:
  inputs     shape, float32 values (as exact decimals), requires_grad
  target     class indices (nll_loss, cross_entropy)
  indices    max/min along a dim: the indices PyTorch returns with the values
  kink       true where an input sits on a kink (ties of max): no finite differences
  chain      the ops, as test-ops-pytorch.c calls them (op name and arguments)
  grad_fn    the whole grad_fn graph as text: Name(next, next, ...), None for a None
             slot, AccumulateGrad for a leaf
  output     the forward values
  grads      each input's .grad after output.backward(grad_output)

Where PyTorch 2.x records a different name than 1.13, GradLens follows 2.x
(/work/shared/PYTORCH-SEMANTICS.md); TWO_X_NAMES below renames those, each
with the reason, so the fixture holds what 2.x prints.
"""
import json
import os

import torch
import torch.nn.functional as F

TWO_X_NAMES = {
    # reshape/flatten of a contiguous tensor is a view in 2.x.
    "ReshapeAliasBackward0": "ViewBackward0",
    # 2.x added squeeze.dims (SqueezeBackward2), so the in-place squeeze_(dim) that
    # matmul (1-D @ 2-D) ends with moved from SqueezeBackward3 to SqueezeBackward4.
    "SqueezeBackward3": "SqueezeBackward4",
}

BIG = 2**62  # an open slice end, as Python's x[1:] passes INT64_MAX


def graph(fn):
    if fn is None:
        return "None"
    name = fn.name().replace("torch::autograd::", "")
    name = TWO_X_NAMES.get(name, name)
    if name == "AccumulateGrad":
        return name
    return name + "(" + ", ".join(graph(n) for n, _ in fn.next_functions) + ")"


gen = torch.Generator().manual_seed(1234)


def inp(*shape, lo=-1.0, hi=1.0, grad=True):
    t = torch.rand(*shape, generator=gen) * (hi - lo) + lo
    return t.requires_grad_(grad)


def far_from(t, points, gap=0.05):
    """Moves values within gap of a kink (0 for abs, the clamp bounds) away from it."""
    with torch.no_grad():
        for p in points:
            near = (t - p).abs() < gap
            t[near] = p + gap * 2
    return t


CASES = []


def case(name, inputs, chain, fn, target=None, indices=None, kink=False):
    CASES.append((name, inputs, chain, fn, target, indices, kink))


def op(name, **args):
    return dict(op=name, **args)


# --- unary
case("sin", [inp(2, 3, lo=-3, hi=3)], [op("sin")], lambda x: x.sin())
case("cos", [inp(2, 3, lo=-3, hi=3)], [op("cos")], lambda x: x.cos())
case("tanh", [inp(2, 3, lo=-2, hi=2)], [op("tanh")], lambda x: x.tanh())
case("sigmoid", [inp(3, 4, lo=-4, hi=4)], [op("sigmoid")], lambda x: torch.sigmoid(x))
case("sqrt", [inp(2, 3, lo=0.2, hi=3)], [op("sqrt")], lambda x: x.sqrt())
case("abs", [far_from(inp(2, 3), [0])], [op("abs")], lambda x: x.abs())
case("reciprocal", [inp(2, 3, lo=0.5, hi=2)], [op("reciprocal")], lambda x: x.reciprocal())
case("rdiv-scalar", [inp(2, 3, lo=0.5, hi=2)], [op("rdiv_scalar", s=2.0)], lambda x: 2 / x)
case("clamp", [far_from(inp(2, 3), [-0.3, 0.4])], [op("clamp", min=-0.3, max=0.4)],
     lambda x: x.clamp(-0.3, 0.4))
case("clamp-min", [far_from(inp(2, 3), [0.1])], [op("clamp", min=0.1)],
     lambda x: x.clamp(min=0.1))
case("clamp-max", [far_from(inp(2, 3), [0.1])], [op("clamp", max=0.1)],
     lambda x: x.clamp(max=0.1))
case("pow-tensor", [inp(2, 3, lo=0.5, hi=2), inp(2, 3, lo=-2, hi=2)], [op("pow")],
     lambda a, b: a ** b)
case("pow-broadcast", [inp(2, 3, lo=0.5, hi=2), inp(3, lo=-2, hi=2)], [op("pow")],
     lambda a, b: a ** b)
case("pow-const-exponent", [inp(2, 3, lo=0.5, hi=2), inp(2, 3, grad=False)], [op("pow")],
     lambda a, b: a ** b)
# 2 ** x is torch.pow(2, x) in 2.x (PowBackward2); 1.13's __rpow__ made a tensor of 2
# first (PowBackward1 (None, x)). torch.pow(2, x) records PowBackward2 in both.
case("pow-scalar-base", [inp(2, 3)], [op("pow_scalar_base", s=2.0)], lambda x: torch.pow(2, x))

# --- softmax, extrema
case("softmax", [inp(2, 5, lo=-3, hi=3)], [op("softmax", dim=1)], lambda x: F.softmax(x, 1))
case("softmax-dim0-3d", [inp(3, 2, 4, lo=-3, hi=3)], [op("softmax", dim=0)],
     lambda x: x.softmax(0))
case("log-softmax", [inp(2, 5, lo=-3, hi=3)], [op("log_softmax", dim=-1)],
     lambda x: F.log_softmax(x, -1))
case("log-softmax-3d", [inp(2, 3, 4, lo=-3, hi=3)], [op("log_softmax", dim=1)],
     lambda x: F.log_softmax(x, 1))
case("max", [inp(3, 4)], [op("max")], lambda x: x.max())
case("min", [inp(3, 4)], [op("min")], lambda x: x.min())
# Ties: the first index; a NaN wins.
TIES = torch.tensor([[1., 3., 3., 0.], [2., 2., 0., 1.], [0., 4., 5., 4.]], requires_grad=True)
case("max-dim", [TIES], [op("max_dim", dim=1)], lambda x: x.max(1)[0],
     indices=lambda x: x.max(1)[1], kink=True)
case("max-dim-keepdim", [inp(3, 4)], [op("max_dim", dim=0, keepdim=True)],
     lambda x: x.max(0, keepdim=True)[0], indices=lambda x: x.max(0, keepdim=True)[1])
case("min-dim", [TIES.detach().clone().requires_grad_()], [op("min_dim", dim=-1)],
     lambda x: x.min(-1)[0], indices=lambda x: x.min(-1)[1], kink=True)
case("min-dim-3d", [inp(2, 3, 4)], [op("min_dim", dim=1)], lambda x: x.min(1)[0],
     indices=lambda x: x.min(1)[1])

case("sub-scalar", [inp(2, 3)], [op("sub_scalar", s=2.0)], lambda x: x - 2)

# --- losses
for red in ("mean", "sum", "none"):
    case("mse-" + red, [inp(2, 3), inp(2, 3)], [op("mse_loss", reduction=red)],
         lambda a, b, red=red: F.mse_loss(a, b, reduction=red))
case("mse-const-target", [inp(4), inp(4, grad=False)], [op("mse_loss", reduction="mean")],
     lambda a, b: F.mse_loss(a, b))
case("mse-broadcast", [inp(2, 3), inp(3)], [op("mse_loss", reduction="mean")],
     lambda a, b: F.mse_loss(a, b))
for red in ("mean", "sum", "none"):
    case("nll-" + red, [inp(3, 4, lo=-3, hi=0)], [op("nll_loss", reduction=red)],
         lambda x, red=red: F.nll_loss(x, torch.tensor([1, 0, 3]), reduction=red),
         target=[1, 0, 3])
case("nll-ignore-index", [inp(3, 4, lo=-3, hi=0)], [op("nll_loss", reduction="mean")],
     lambda x: F.nll_loss(x, torch.tensor([2, -100, 0])), target=[2, -100, 0])
case("nll-1d", [inp(5, lo=-3, hi=0)], [op("nll_loss", reduction="mean")],
     lambda x: F.nll_loss(x, torch.tensor(2)), target=[2])
for red in ("mean", "sum"):
    case("cross-entropy-" + red, [inp(3, 5, lo=-2, hi=2)],
         [op("cross_entropy", reduction=red)],
         lambda x, red=red: F.cross_entropy(x, torch.tensor([4, 0, 2]), reduction=red),
         target=[4, 0, 2])
case("cross-entropy-1d", [inp(4, lo=-2, hi=2)], [op("cross_entropy", reduction="mean")],
     lambda x: F.cross_entropy(x, torch.tensor(1)), target=[1])

# --- shape
case("unsqueeze", [inp(2, 3)], [op("unsqueeze", dim=0)], lambda x: x.unsqueeze(0))
case("unsqueeze-end", [inp(2, 3)], [op("unsqueeze", dim=-1)], lambda x: x.unsqueeze(-1))
case("squeeze", [inp(1, 3, 1, 2)], [op("squeeze")], lambda x: x.squeeze())
case("squeeze-nothing", [inp(2, 3)], [op("squeeze")], lambda x: x.squeeze())
case("squeeze-dim", [inp(3, 1, 2)], [op("squeeze_dim", dim=1)], lambda x: x.squeeze(1))
case("squeeze-dim-not-1", [inp(3, 2)], [op("squeeze_dim", dim=0)], lambda x: x.squeeze(0))
case("unsqueeze-squeeze", [inp(2, 3)], [op("unsqueeze", dim=1), op("squeeze_dim", dim=1)],
     lambda x: x.unsqueeze(1).squeeze(1))
case("reshape", [inp(2, 3)], [op("reshape", shape=[3, -1])], lambda x: x.reshape(3, -1))
case("transpose", [inp(2, 3)], [op("transpose", dim0=0, dim1=1)], lambda x: x.transpose(0, 1))
case("transpose-3d", [inp(2, 3, 4)], [op("transpose", dim0=1, dim1=-1)],
     lambda x: x.transpose(1, -1))
case("mT", [inp(2, 3, 4)], [op("transpose", dim0=-2, dim1=-1)], lambda x: x.mT)
case("permute", [inp(2, 3, 4)], [op("permute", dims=[2, 0, 1])], lambda x: x.permute(2, 0, 1))
case("T", [inp(2, 3)], [op("T")], lambda x: x.T)
case("T-1d", [inp(3)], [op("T")], lambda x: x.T)
case("t-1d", [inp(3)], [op("t")], lambda x: x.t())
case("expand", [inp(3, 1)], [op("expand", shape=[2, 3, 4])], lambda x: x.expand(2, 3, 4))
case("expand-keep", [inp(3)], [op("expand", shape=[2, -1])], lambda x: x.expand(2, -1))
case("select", [inp(3, 4)], [op("select", dim=0, index=1)], lambda x: x[1])
case("select-negative", [inp(3, 4)], [op("select", dim=0, index=-1)], lambda x: x[-1])
case("index-2", [inp(3, 4)], [op("select", dim=0, index=0), op("select", dim=0, index=1)],
     lambda x: x[0, 1])
# x[:, 1]: the ":" is a full slice of dim 0, then a select of dim 1.
case("index-column", [inp(3, 4)],
     [op("slice", dim=0, start=0, end=BIG, step=1), op("select", dim=1, index=1)],
     lambda x: x[:, 1])
case("slice-columns", [inp(3, 4)],
     [op("slice", dim=0, start=0, end=BIG, step=1), op("slice", dim=1, start=1, end=3, step=1)],
     lambda x: x[:, 1:3])
case("slice-step", [inp(3, 5)],
     [op("slice", dim=0, start=0, end=BIG, step=1), op("slice", dim=1, start=0, end=BIG, step=2)],
     lambda x: x[:, ::2])
case("slice-rows", [inp(4, 2)], [op("slice", dim=0, start=1, end=BIG, step=1)],
     lambda x: x[1:])
case("slice-negative", [inp(5, 2)], [op("slice", dim=0, start=-3, end=-1, step=1)],
     lambda x: x[-3:-1])
case("narrow", [inp(2, 4)], [op("slice", dim=1, start=1, end=3, step=1)],
     lambda x: x.narrow(1, 1, 2))
case("clone", [inp(2, 3)], [op("clone")], lambda x: x.clone())
case("cat", [inp(2, 3), inp(1, 3)], [op("cat", dim=0)], lambda a, b: torch.cat([a, b]))
case("cat-dim1-const", [inp(2, 3), inp(2, 2, grad=False)], [op("cat", dim=1)],
     lambda a, b: torch.cat([a, b], 1))
case("cat-3", [inp(2), inp(3, grad=False), inp(1)], [op("cat", dim=0)],
     lambda a, b, c: torch.cat([a, b, c]))
case("stack", [inp(2, 3), inp(2, 3)], [op("stack", dim=0)], lambda a, b: torch.stack([a, b]))
case("stack-dim1-const", [inp(2, 3, grad=False), inp(2, 3)], [op("stack", dim=1)],
     lambda a, b: torch.stack([a, b], 1))
case("stack-last", [inp(2, 3), inp(2, 3)], [op("stack", dim=-1)],
     lambda a, b: torch.stack([a, b], -1))

# --- products
case("mv", [inp(3, 4), inp(4)], [op("mv")], lambda a, v: a.mv(v))
case("dot", [inp(5), inp(5)], [op("dot")], lambda a, b: a.dot(b))
case("bmm", [inp(2, 3, 4), inp(2, 4, 2)], [op("bmm")], lambda a, b: torch.bmm(a, b))
case("matmul-1d-1d", [inp(4), inp(4)], [op("matmul")], lambda a, b: a @ b)
case("matmul-2d-1d", [inp(3, 4), inp(4)], [op("matmul")], lambda a, b: a @ b)
case("matmul-1d-2d", [inp(3), inp(3, 4)], [op("matmul")], lambda a, b: a @ b)
case("matmul-2d-2d", [inp(2, 3), inp(3, 4, grad=False)], [op("matmul")], lambda a, b: a @ b)
case("matmul-3d-2d", [inp(2, 3, 4), inp(4, 2)], [op("matmul")], lambda a, b: a @ b)
case("matmul-3d-1d", [inp(2, 3, 4), inp(4)], [op("matmul")], lambda a, b: a @ b)
case("matmul-3d-3d", [inp(2, 3, 4), inp(2, 4, 2)], [op("matmul")], lambda a, b: a @ b)
case("matmul-4d-4d", [inp(2, 2, 3, 2), inp(2, 2, 2, 3, grad=False)], [op("matmul")],
     lambda a, b: a @ b)

# --- indexing (ops-index.c): the key's flat offsets, as torch/_indexing.py makes them
def flat_offsets(shape, key):
    return torch.arange(float(torch.Size(shape).numel())).view(*shape)[key].reshape(-1).long().tolist()


def assigned(a, key, v):
    b = a.clone()   # a needs no grad: b[key] = v records the assignment's node alone
    b[key] = v
    return b


# Their own generator: the cases above keep their numbers.
index_gen = torch.Generator().manual_seed(4321)


def inp_i(*shape, grad=True):
    return (torch.rand(*shape, generator=index_gen) * 2 - 1).requires_grad_(grad)


ROWS = [2, 0, 2]
MASK = torch.tensor([[True, False, True, True], [False, False, True, False],
                     [True, True, False, False]])
case("index-rows", [inp_i(3, 4)], [op("index", offsets=flat_offsets((3, 4), ROWS), shape=[3, 4])],
     lambda x: x[ROWS])
case("index-mask", [inp_i(3, 4)], [op("index", offsets=flat_offsets((3, 4), MASK), shape=[6])],
     lambda x: x[MASK])
case("index-put", [inp_i(2, 3, grad=False), inp_i(3)],
     [op("index_put", offsets=flat_offsets((2, 3), [1]), shape=[1, 3])],
     lambda a, v: assigned(a, [1], v))
case("copy-slices", [inp_i(2, 3, grad=False), inp_i(2)],
     [op("copy_slices", offsets=flat_offsets((2, 3), (slice(None), 1)), shape=[2])],
     lambda a, v: assigned(a, (slice(None), 1), v))


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    out = []
    for name, inputs, chain, fn, target, indices, kink in CASES:
        y = fn(*inputs)
        r = torch.rand(y.shape, generator=gen) * 2 - 1
        y.backward(r)
        entry = {
            "name": name,
            "chain": chain,
            "inputs": [{"shape": list(t.shape), "data": values(t),
                        "requires_grad": t.requires_grad} for t in inputs],
            "grad_fn": graph(y.grad_fn),
            "output": {"shape": list(y.shape), "data": values(y)},
            "grad_output": values(r),
            "grads": [values(t.grad) if t.grad is not None else None for t in inputs],
        }
        if target is not None:
            entry["target"] = target
        if kink:
            entry["kink"] = True
        if indices is not None:
            entry["indices"] = indices(*inputs).reshape(-1).tolist()
        out.append(entry)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": out}, f, indent=None,
                  separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(out)} cases (torch {torch.__version__})")


if __name__ == "__main__":
    main()
