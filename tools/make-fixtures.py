#!/usr/bin/python3
"""make-fixtures.py — PyTorch-made fixtures for tests/test-pytorch.c.

Run with the system Python that has PyTorch 1.13 and torchvision 0.14:

    /usr/bin/python3 tools/make-fixtures.py          # writes tests/data/pytorch/*

Neither the build nor CI needs PyTorch: the fixtures are committed. Every file is
safetensors (written here by hand: 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}} padded with spaces to a multiple of 8, then the
raw little-endian data), F32 except num_batches_tracked (I64).

The tutorial's step, everywhere:

    loss = (model(x) - labels).sum(); loss.backward(); optim.step()

with optim = SGD(model.parameters(), lr=1e-2, momentum=0.9), twice, in train mode.

Files
-----
narrow-w4-b2.safetensors — a narrow resnet18 (torchvision's BasicBlock ResNet with
    widths 4, 8, 16, 32 and torchvision's module names, fc 32 -> 10), x 2x3x64x64,
    labels 2x10; weights from fill_state_dict, then x and labels drawn with
    torch.rand from the same stream. The fill seed is the first from 1 on for which
    float32 PyTorch agrees with float64 PyTorch to NARROW_MARGIN on every stored
    tensor, so the C side, held to 1e-4, has room for its own rounding:
      fill_seed              (1,) I64
      init.<name>            the state dict before any step (running stats, I64 counts)
      input, labels
      <v>.loss               (2,): the loss of step 1 and step 2
      <v>.grad<k>.<param>    every parameter's .grad after backward k (absent: None)
      <v>.state<k>.<name>    the state dict after optimizer step k
    variants <v>:
      accum   the tutorial's loop, no zero_grad: step 2's .grad is g1 + g2 (grad1,
              state1, grad2, state2 stored)
      zero    zero_grad(set_to_none=True) before each forward (grad2, state2; its
              step 1 is accum's)
      freeze  conv1, bn1 and layer1 frozen; SGD(lr=1e-2, momentum=0.9, nesterov=True,
              weight_decay=1e-3); zero_grad before each forward (grad2, state2)

resnet18-64.safetensors — the real torchvision.models.resnet18(), 1x3x64x64, labels
    1x1000; fill_state_dict (seed 0), then x = rand(1,3,64,64) and
    labels = rand(1,1000) from the same stream; two steps without zero_grad. Only
    summaries are stored (the weights would be 47 MB), each a (19,) F32 vector:
        [sum, sum |t|, max |t|, t.flatten()[i * numel // 16] for i in 0..15]
    (sums and max in float64, then rounded), of float32 PyTorch and (ref64.*) of the
    same computation in float64:
      fill_seed              (1,) I64
      fill.<name>, fill.input, fill.labels   the filled state (checks the C fill)
      loss, ref64.loss       (2,)
      grad<k>.<param>, ref64.grad<k>.<param>     .grad after backward k
      state<k>.<name>, ref64.state<k>.<name>     the state dict after step k
                                                 (num_batches_tracked: I64, no ref64)
    This configuration is ill-conditioned: layer4's batch norms see 2x2 maps of one
    image, 4 values per channel (some with std/|mean| ~ 1/20), and step 1 moves the
    weights far, so float32 PyTorch is only ~1e-4 from float64 in step 1 and ~1e-2
    in step 2. The C test's tolerance per entry is max(1e-4, 4 x that distance).

resnet18-finetune-64.safetensors — the fine-tuning lesson: resnet18(), every parameter
    frozen, fc = Linear(512, 10); fill_state_dict of that model (seed 0; fc is the
    10-class one), x = rand(1,3,64,64), labels = rand(1,10); two steps without
    zero_grad. As above, plus fc's full tensors:
      full.grad<k>.fc.weight, full.grad<k>.fc.bias, full.state<k>.fc.weight, ...

The deterministic fill (fill_state_dict here, fixture_fill_state_dict in
tests/fixture-fill.h; keep the two identical):

    torch.manual_seed(seed); then for each state-dict entry, in order, s = 2u - 1 with
    u = torch.rand(shape) (one draw per element, row-major), computed in float32:
      *.num_batches_tracked          0 (no draw)
      BN  running_mean               s * 0.125
      BN  running_var                u + 0.5
      BN  weight                     s * 0.125 + 1
      BN  bias                       s * 0.125
      conv weight (O, C, kh, kw)     s * float32(sqrt(24 / (C*kh*kw)))
      linear weight (O, I)           s * float32(1 / sqrt(I))
      other bias (of M.weight)       s * float32(1 / sqrt(M.weight[0].numel()))
    (a BN is a module M with an M.running_mean entry). Scales by powers of two are
    exact, so each value is rounded once: no fused multiply-add can change it.
    The conv bound is twice Kaiming-uniform's: a BN follows every conv, so the scale
    does not change the forward pass, but a conv's gradient scales as 1/scale, so
    larger weights move less, relatively, in step 1, and step 2 stays well-conditioned.
"""

import collections
import copy
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torchvision

from fixtures_common import narrow_resnet18

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "pytorch")

LR = 1e-2
MOMENTUM = 0.9
N_SAMPLES = 16


# --- safetensors, by hand ------------------------------------------------------

def save_safetensors(path, entries):
    """entries: list of (name, tensor), float32 or int64, written in this order."""
    header = collections.OrderedDict()
    blobs = []
    offset = 0
    for name, t in entries:
        t = t.detach().contiguous().cpu()
        if t.dtype == torch.float32:
            dtype, fmt = "F32", "<f"
        elif t.dtype == torch.int64:
            dtype, fmt = "I64", "<q"
        else:
            raise ValueError(f"{name}: dtype {t.dtype} not written")
        values = t.reshape(-1).tolist()
        blob = struct.pack(f"<{len(values)}{fmt[1]}", *values)
        if name in header:
            raise ValueError(f"{name}: written twice")
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)
    return os.path.getsize(path)


# --- the deterministic fill ------------------------------------------------------

def f32(x):
    """A Python float rounded to float32, as a 0-d float32 tensor."""
    return torch.tensor(x, dtype=torch.float32)


def fill_state_dict(sd, seed):
    """Fills the tensors of sd (a state_dict: aliases of the model's tensors) in
    place, in order, from torch.manual_seed(seed). See the module docstring."""
    torch.manual_seed(seed)
    for name, t in sd.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf == "num_batches_tracked":
            t.zero_()
            continue
        u = torch.rand(t.shape)
        s = u * 2 - 1
        is_bn = (prefix + ".running_mean") in sd
        if is_bn and leaf == "running_mean":
            v = s * 0.125
        elif is_bn and leaf == "running_var":
            v = u + 0.5
        elif is_bn and leaf == "weight":
            v = s * 0.125 + 1
        elif is_bn and leaf == "bias":
            v = s * 0.125
        elif leaf == "weight" and t.dim() == 4:
            fan_in = t[0].numel()
            v = s * f32(math.sqrt(24.0 / fan_in))
        elif leaf == "weight" and t.dim() == 2:
            v = s * f32(1.0 / math.sqrt(t.shape[1]))
        elif leaf == "bias":
            fan_in = sd[prefix + ".weight"][0].numel()
            v = s * f32(1.0 / math.sqrt(fan_in))
        else:
            raise ValueError(f"fill: no rule for {name} {tuple(t.shape)}")
        assert v.dtype == torch.float32
        with torch.no_grad():
            t.copy_(v)


# --- models --------------------------------------------------------------------

def snapshot_state(model):
    return collections.OrderedDict(
        (n, t.detach().clone()) for n, t in model.state_dict().items())


def snapshot_grads(model):
    return collections.OrderedDict(
        (n, p.grad.detach().clone()) for n, p in model.named_parameters()
        if p.grad is not None)


def train_steps(model, x, labels, steps=2, zero_grad=False, **sgd):
    """The tutorial's loop. Returns [(loss, grads, state)] per step."""
    opts = dict(lr=LR, momentum=MOMENTUM)
    opts.update(sgd)
    optim = torch.optim.SGD(model.parameters(), **opts)
    model.train()
    out = []
    for _ in range(steps):
        if zero_grad:
            optim.zero_grad(set_to_none=True)
        loss = (model(x) - labels).sum()
        loss.backward()
        grads = snapshot_grads(model)
        optim.step()
        out.append((loss.detach().clone(), grads, snapshot_state(model)))
    for name, p in model.named_parameters():
        if not p.requires_grad:
            assert p.grad is None and p not in optim.state, name
    return out


def worst_ratio(a, b):
    """(max over tensors of max |a - b| / max |b|, its name), over the float tensors
    of b (a dict with the same keys)."""
    worst, where = 0.0, ""
    for name, e in b.items():
        if not e.is_floating_point():
            continue
        d = (a[name].double() - e.double()).abs().max().item()
        m = e.double().abs().max().item()
        r = d / m if m > 0 else d
        if r > worst:
            worst, where = r, name
    return worst, where


def frozen_model(make, init, frozen):
    m = make()
    m.load_state_dict(init)
    for n, p in m.named_parameters():
        if any(n == f or n.startswith(f + ".") for f in frozen):
            p.requires_grad_(False)
    return m


# --- fixtures ------------------------------------------------------------------

# Float32 PyTorch must agree with float64 PyTorch this well on every stored tensor
# of the narrow fixture, so the C side, held to 1e-4, has room for its own rounding.
NARROW_MARGIN = 4e-5

NARROW_VARIANTS = [
    # name, zero_grad, steps stored, frozen prefixes, SGD extras
    ("accum", False, (1, 2), (), {}),
    ("zero", True, (2,), (), {}),
    ("freeze", True, (2,), ("conv1", "bn1", "layer1"),
     dict(nesterov=True, weight_decay=1e-3)),
]


def try_narrow(width, batch, size, classes, seed):
    """Returns (entries, worst float32-vs-float64 ratio, report lines)."""
    make = lambda: narrow_resnet18(width, classes)
    model = make()
    fill_state_dict(model.state_dict(), seed)
    x = torch.rand(batch, 3, size, size)
    labels = torch.rand(batch, classes)
    init = snapshot_state(model)

    entries = [("fill_seed", torch.tensor([seed]))]
    entries += [("init." + n, t) for n, t in init.items()]
    entries += [("input", x), ("labels", labels)]
    worst = (0.0, "")
    lines = []
    for variant, zero_grad, keep, frozen, sgd in NARROW_VARIANTS:
        steps = train_steps(frozen_model(make, init, frozen), x, labels,
                            zero_grad=zero_grad, **sgd)
        # The same in float64: how far is float32 PyTorch from the exact result?
        steps64 = train_steps(frozen_model(lambda: make().double(), init, frozen),
                              x.double(), labels.double(), zero_grad=zero_grad, **sgd)
        entries.append((variant + ".loss", torch.stack([s[0] for s in steps])))
        for k in (1, 2):
            loss, grads, state = steps[k - 1]
            loss64, grads64, state64 = steps64[k - 1]
            rl = abs(loss.item() - loss64.item()) / abs(loss64.item())
            rg = worst_ratio(grads, grads64)
            rs = worst_ratio(state, state64)
            lines.append(f"  narrow {variant} step {k}: loss {loss.item():.9g}"
                         f" (float64 {loss64.item():.12g}); float32 vs float64:"
                         f" loss {rl:.1e}, grads {rg[0]:.1e} ({rg[1]}),"
                         f" state {rs[0]:.1e} ({rs[1]})")
            for r in ((rl, f"{variant}.loss{k}"), (rg[0], f"{variant}.grad{k}.{rg[1]}"),
                      (rs[0], f"{variant}.state{k}.{rs[1]}")):
                if r[0] > worst[0]:
                    worst = r
            if k in keep:
                entries.extend((f"{variant}.grad{k}.{n}", g) for n, g in grads.items())
                entries.extend((f"{variant}.state{k}.{n}", t) for n, t in state.items())
    return entries, worst, lines


def make_narrow(width=4, batch=2, size=64, classes=10, first_seed=1):
    """The first fill seed from first_seed on whose fixture is well-conditioned."""
    for seed in range(first_seed, first_seed + 20):
        entries, worst, lines = try_narrow(width, batch, size, classes, seed)
        print(f"narrow w{width} b{batch} {size}x{size}, fill seed {seed}:"
              f" worst float32 vs float64 {worst[0]:.2e} ({worst[1]})")
        if worst[0] <= NARROW_MARGIN:
            break
    else:
        raise RuntimeError("no well-conditioned narrow fixture in 20 seeds")
    print("\n".join(lines))
    path = os.path.join(OUT, f"narrow-w{width}-b{batch}.safetensors")
    size_bytes = save_safetensors(path, entries)
    print(f"{os.path.relpath(path)}: {len(entries)} tensors, {size_bytes} bytes")
    return seed


def summary(t):
    """(19,) float32: sum, sum |t|, max |t| (in float64), then the 16 elements
    t.flatten()[i * numel // 16] for i in 0..15."""
    flat = t.detach().reshape(-1)
    d = flat.double()
    n = flat.numel()
    samples = [flat[i * n // N_SAMPLES].item() for i in range(N_SAMPLES)]
    vals = [d.sum().item(), d.abs().sum().item(), d.abs().max().item()] + samples
    return torch.tensor(vals, dtype=torch.float32)


def summary_ratio(a, e):
    """How far summary a is from summary e: the C side's metric (test-pytorch.c).
    max(|dsum| / sum|e|, |dabssum| / sum|e|, |dabsmax| / max|e|,
        max |dsample| / max|e|)."""
    a, e = a.double(), e.double()
    s, m = max(e[1].item(), 1e-30), max(e[2].item(), 1e-30)
    return max(abs(a[0] - e[0]).item() / s, abs(a[1] - e[1]).item() / s,
               abs(a[2] - e[2]).item() / m, (a[3:] - e[3:]).abs().max().item() / m)


def make_resnet18(finetune, size=64, seed=0):
    """The real torchvision resnet18, filled; summaries of float32 PyTorch and of
    the same computation in float64 (ref64.*, the C test's tolerance per entry:
    max(1e-4, 4 x float32-vs-float64))."""
    model = torchvision.models.resnet18()
    if finetune:
        for p in model.parameters():
            p.requires_grad_(False)
        model.fc = nn.Linear(512, finetune)
    classes = finetune or 1000
    sd = model.state_dict()
    fill_state_dict(sd, seed)
    x = torch.rand(1, 3, size, size)
    labels = torch.rand(1, classes)
    model64 = copy.deepcopy(model).double()

    entries = [("fill_seed", torch.tensor([seed]))]
    entries += [("fill." + n, summary(t)) for n, t in sd.items() if t.is_floating_point()]
    entries += [("fill.input", summary(x)), ("fill.labels", summary(labels))]

    steps = train_steps(model, x, labels)
    steps64 = train_steps(model64, x.double(), labels.double())
    entries.append(("loss", torch.stack([s[0] for s in steps])))
    entries.append(("ref64.loss", torch.stack([s[0].float() for s in steps64])))
    tag = f"resnet18{' finetune' if finetune else ''} {size}x{size}"
    for k in (1, 2):
        loss, grads, state = steps[k - 1]
        loss64, grads64, state64 = steps64[k - 1]
        worst = {"grad": (0.0, ""), "state": (0.0, "")}
        for kind, d, d64 in (("grad", grads, grads64), ("state", state, state64)):
            for n, t in d.items():
                if not t.is_floating_point():
                    entries.append((f"{kind}{k}.{n}", t))
                    continue
                s, s64 = summary(t), summary(d64[n])
                entries.append((f"{kind}{k}.{n}", s))
                entries.append((f"ref64.{kind}{k}.{n}", s64))
                r = summary_ratio(s, s64)
                if r > worst[kind][0]:
                    worst[kind] = (r, n)
        if finetune:
            for n in ("fc.weight", "fc.bias"):
                entries.append((f"full.grad{k}.{n}", grads[n]))
                entries.append((f"full.state{k}.{n}", state[n]))
        rl = abs(loss.item() - loss64.item()) / abs(loss64.item())
        print(f"  {tag} step {k}: loss {loss.item():.9g} (float64 {loss64.item():.12g}),"
              f" {len(grads)} grads; float32 vs float64: loss {rl:.1e},"
              f" grad summaries {worst['grad'][0]:.1e} ({worst['grad'][1]}),"
              f" state summaries {worst['state'][0]:.1e} ({worst['state'][1]})")

    name = f"resnet18-finetune-{size}" if finetune else f"resnet18-{size}"
    path = os.path.join(OUT, name + ".safetensors")
    size_bytes = save_safetensors(path, entries)
    print(f"{os.path.relpath(path)}: {len(entries)} tensors, {size_bytes} bytes")


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")
    make_narrow()
    make_resnet18(finetune=0)
    make_resnet18(finetune=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
