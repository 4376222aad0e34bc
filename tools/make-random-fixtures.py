#!/usr/bin/python3
"""make-random-fixtures.py — PyTorch's seeded random numbers, for tests/test-random.c.

    /usr/bin/python3 tools/make-random-fixtures.py > tests/data/random/torch-random.ini

Writes a GKeyFile: one group per case. A case seeds the generator, then runs its
calls in order on that one generator (so later calls see what earlier ones left
behind, such as the cached second normal sample). Small results are given whole,
as the hex of each float32's bits; torchvision's resnet18 is given as a SHA-256 of
each float tensor's little-endian bytes (its state dict in order).

  [randn-3]
  seed=0
  calls=randn 3;          torch.randn(3)
  bits=3fc53f58;...       every float of every call, in order

and [dynamic-lesson]: how many grad_fn nodes the dynamic lesson's program builds
for seeds 0..7 (its while loop runs as long as torch.randn(3) asks).

Calls: "randn SHAPE", "rand SHAPE", "uniform SHAPE FROM TO" (torch.empty(SHAPE)
.uniform_(FROM, TO)), "normal SHAPE MEAN STD"; SHAPE is sizes joined by x.
PyTorch 1.13 (Debian's python3-torch, CPU capability AVX2) made the committed file.
"""
import hashlib
import struct
import sys

import torch
import torchvision

CASES = [
    # name, seed, calls
    ("randn-3", 0, ["randn 3"]),            # the dynamic lesson's x
    ("randn-3-seed1", 1, ["randn 3"]),
    ("randn-3-seed2", 2, ["randn 3"]),
    ("randn-3-seed3", 3, ["randn 3"]),
    ("randn-5", 0, ["randn 5"]),
    ("randn-3-then-3", 7, ["randn 3", "randn 3"]),   # the cached sample carries over
    ("randn-2x3", 0, ["randn 2x3"]),
    ("randn-15", 0, ["randn 15"]),           # the last size drawn one at a time
    ("randn-16", 0, ["randn 16"]),           # the first size drawn 16 at a time
    ("randn-17", 0, ["randn 17"]),           # a ragged end: the last 16 redrawn
    ("randn-100", 5, ["randn 100"]),
    ("randn-4x4x3x3", 0, ["randn 4x4x3x3"]),
    ("randn-mixed", 3, ["randn 3", "randn 16", "randn 1", "rand 2"]),
    ("rand-4", 0, ["rand 4"]),
    ("rand-2x3", 1, ["rand 2x3"]),
    ("uniform", 0, ["uniform 7 -0.1767766952966369 0.1767766952966369",
                    "uniform 20 -0.3 0.7", "uniform 5 2.5 3.25"]),
    ("normal", 0, ["normal 33 0.5 0.125", "normal 5 -1.0 3.0",
                   "normal 64 0 0.05892556509887896"]),
]
SEEDS_RESNET18 = [0, 1, 7]
SEEDS_DYNAMIC = [0, 1, 2, 3, 4, 5, 6, 7]


def dynamic_graph_nodes(seed):
    """The dynamic lesson's program: how many nodes y.grad_fn reaches (the
    MulBackward0 chain and x's AccumulateGrad)."""
    torch.manual_seed(seed)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    seen, todo = set(), [y.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node not in seen:
            seen.add(node)
            todo += [f for f, _ in node.next_functions]
    return len(seen)


def run_call(call):
    words = call.split()
    shape = [int(s) for s in words[1].split("x")]
    if words[0] == "randn":
        return torch.randn(*shape)
    if words[0] == "rand":
        return torch.rand(*shape)
    t = torch.empty(*shape)
    if words[0] == "uniform":
        return t.uniform_(float(words[2]), float(words[3]))
    if words[0] == "normal":
        return t.normal_(float(words[2]), float(words[3]))
    raise ValueError(call)


def float_bits(t):
    return ["%08x" % struct.unpack("<I", struct.pack("<f", v))[0]
            for v in t.flatten().tolist()]


def main():
    out = sys.stdout
    out.write("# Made by tools/make-random-fixtures.py with PyTorch %s, torchvision %s.\n"
              % (torch.__version__, torchvision.__version__))
    for name, seed, calls in CASES:
        torch.manual_seed(seed)
        bits = []
        for call in calls:
            bits += float_bits(run_call(call))
        out.write("\n[%s]\nseed=%d\ncalls=%s;\nbits=%s;\n"
                  % (name, seed, ";".join(calls), ";".join(bits)))
    out.write("\n[dynamic-lesson]\n# graph nodes for seeds %s\nnodes=%s;\n"
              % (" ".join(map(str, SEEDS_DYNAMIC)),
                 ";".join(str(dynamic_graph_nodes(s)) for s in SEEDS_DYNAMIC)))
    for seed in SEEDS_RESNET18:
        torch.manual_seed(seed)
        model = torchvision.models.resnet18()
        out.write("\n[resnet18-seed%d]\n# SHA-256 of each float32 tensor's bytes\n" % seed)
        for key, t in model.state_dict().items():
            if t.dtype != torch.float32:
                continue
            data = t.contiguous().numpy().astype("<f4").tobytes()
            out.write("%s=%s\n" % (key, hashlib.sha256(data).hexdigest()))


if __name__ == "__main__":
    main()
