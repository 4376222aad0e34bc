#!/usr/bin/python3
"""make-safetensors-fixtures.py — safetensors files made on the PyTorch side, for
tests/test-safetensors.c and the fuzzers' seed corpus.

    /usr/bin/python3 tools/make-safetensors-fixtures.py          # writes the files below
    /usr/bin/python3 tools/make-safetensors-fixtures.py --verify FILE...

The safetensors package is not in Debian 12, so the format is written here by hand
with struct and json, exactly as safetensors.torch.save_file lays it out:

    8 bytes   N, the header length, uint64 little-endian
    N bytes   JSON, compact (no spaces), UTF-8 as is, padded with spaces to a
              multiple of 8; tensors sorted by dtype, highest alignment first
              (I64 before F32), then by name
    the rest  each tensor's bytes, row-major, little-endian, in header order

Files (tests/data/safetensors/)
-------------------------------
small.safetensors      canonical layout: F32 tensors of 0-4 dims (torch.randn,
                       seed 0), an empty one, special values (inf, -inf, nan, -0.,
                       a denormal), I64 tensors (num_batches_tracked, values past
                       2^32 and negative), a name with non-ASCII letters.
unordered.safetensors  the same tensors written the way other writers may: a
                       "__metadata__" entry, header keys in an order unrelated to
                       the data, pretty-printed JSON with \\u escapes (ensure_ascii,
                       one name outside the BMP: a surrogate pair), data in yet
                       another order, no padding.
expected.txt           what both must load as: one line per tensor,
                       name<TAB>dtype<TAB>shape<TAB>values (Python repr, exact for
                       float32), in small.safetensors's order.

Seed corpora (tests/data/fuzz/): safetensors/ holds small valid files (the two
above, an empty state dict, one scalar); json/ holds JSON texts that exercise
every branch of the grammar.

--verify reads files (e.g. ones GradLens wrote) with a strict reader written from
the format's description, as the safetensors library checks them, and loads every
tensor into torch; it prints each tensor's name, dtype, shape and sum.
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "data", "safetensors")
FUZZ = os.path.join(ROOT, "tests", "data", "fuzz")

DTYPES = {torch.float32: ("F32", 4), torch.int64: ("I64", 8)}
# The safetensors library's dtype order (increasing alignment); it writes the
# highest first.
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
         "I32", "U32", "F32", "F64", "I64", "U64"]
TORCH = {"F32": torch.float32, "I64": torch.int64}
SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
         "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def tensor_bytes(t):
    t = t.contiguous()
    fmt = "<%d%s" % (t.numel(), "f" if t.dtype == torch.float32 else "q")
    return struct.pack(fmt, *t.flatten().tolist())


def canonical(tensors):
    """The bytes safetensors.torch.save_file(tensors, path) writes."""
    names = sorted(tensors, key=lambda k: (-ORDER.index(DTYPES[tensors[k].dtype][0]),
                                           k.encode("utf-8")))
    header, data, at = {}, b"", 0
    for k in names:
        b = tensor_bytes(tensors[k])
        header[k] = {"dtype": DTYPES[tensors[k].dtype][0], "shape": list(tensors[k].shape),
                     "data_offsets": [at, at + len(b)]}
        data += b
        at += len(b)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data, names


def unordered(tensors, names):
    """The same tensors as another writer might put them: metadata, keys and
    data in unrelated orders, pretty JSON with \\u escapes, no padding."""
    data_order = names[1::2] + names[0::2]          # data: odd ones first
    offsets, data, at = {}, b"", 0
    for k in data_order:
        b = tensor_bytes(tensors[k])
        offsets[k] = [at, at + len(b)]
        data += b
        at += len(b)
    header = {k: {"data_offsets": offsets[k], "shape": list(tensors[k].shape),
                  "dtype": DTYPES[tensors[k].dtype][0]} for k in reversed(names)}
    header = dict(list(header.items())[:3] + [("__metadata__", {"format": "pt",
                  "note": "made by tools/make-safetensors-fixtures.py"})]
                  + list(header.items())[3:])
    h = json.dumps(header, indent=2, ensure_ascii=True).encode("ascii")
    return struct.pack("<Q", len(h)) + h + data


def make_tensors():
    torch.manual_seed(0)
    t = {}
    t["conv1.weight"] = torch.randn(4, 3, 3, 3)
    t["layer1.0.bn1.weight"] = torch.randn(4)
    t["layer1.0.bn1.running_var"] = torch.rand(4) + 0.5
    t["fc.bias"] = torch.randn(1, 2, 1, 3)
    t["scalar"] = torch.tensor(2.5)
    t["empty"] = torch.zeros(0, 3)
    t["special"] = torch.tensor([math.inf, -math.inf, math.nan, -0.0, 1e-45, 3.4028234663852886e38])
    t["layer1.0.bn1.num_batches_tracked"] = torch.tensor(7)
    t["counts"] = torch.tensor([[0, -1, 2**40], [-(2**63), 2**63 - 1, 12345]])
    t["grüße.weight"] = torch.randn(2, 2)
    t["\U0001F600.bias"] = torch.randn(3)             # 😀: a surrogate pair in \\u form
    return t


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print("wrote", os.path.relpath(path, ROOT), len(data), "bytes")


def expected_lines(tensors, names):
    lines = []
    for k in names:
        x = tensors[k]
        dtype = DTYPES[x.dtype][0]
        shape = ",".join(str(s) for s in x.shape)
        values = " ".join(repr(v) for v in x.flatten().tolist())
        lines.append("%s\t%s\t%s\t%s\n" % (k, dtype, shape, values))
    return "".join(lines)


JSON_SEEDS = {
    "object.json": '{"a": [1, 2.5, -3e-2, 0, -0, 1E+400], "b": {"c": null, "d": true, "e": false}}',
    "strings.json": r'["", "plain", "\"\\\/\b\f\n\r\t", "\u00fc\u20ac", "\ud83d\ude00", "gr\u00fc\u00dfe", "ü😀"]',
    "numbers.json": "[0, -1, 9223372036854775807, -9223372036854775808, 18446744073709551616, "
                    "1.5e10, 2E-3, 123456789012345678901234567890]",
    "nested.json": "[[[[[[[[{}]]]]]]], {\"k\": [{\"k\": [{}]}]}]",
    "header.json": '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],'
                   '"data_offsets":[0,24]}}',
    "space.json": ' \t\r\n{ "x" : [ 1 , 2 ] } \n',
    "scalar.json": "42",
}


def main():
    tensors = make_tensors()
    small, names = canonical(tensors)
    write(os.path.join(OUT, "small.safetensors"), small)
    other = unordered(tensors, names)
    write(os.path.join(OUT, "unordered.safetensors"), other)
    with open(os.path.join(OUT, "expected.txt"), "w", encoding="utf-8") as f:
        f.write(expected_lines(tensors, names))
    print("wrote", os.path.relpath(os.path.join(OUT, "expected.txt"), ROOT))

    # Both files must read back as the tensors, through the strict reader.
    for data in (small, other):
        back = read_bytes(data, "fixture")
        for k in names:
            assert back[k].dtype == tensors[k].dtype and back[k].shape == tensors[k].shape, k
            assert torch.equal(back[k].nan_to_num(), tensors[k].nan_to_num()), k

    seeds = os.path.join(FUZZ, "safetensors")
    write(os.path.join(seeds, "small.safetensors"), small)
    write(os.path.join(seeds, "unordered.safetensors"), other)
    write(os.path.join(seeds, "empty.safetensors"), canonical({})[0])
    write(os.path.join(seeds, "scalar.safetensors"),
          canonical({"x": torch.tensor(1.0), "n": torch.tensor(3)})[0])
    write(os.path.join(seeds, "meta.safetensors"),
          unordered({"a": torch.arange(6.0).reshape(2, 3), "b": torch.arange(2)}, ["a", "b"]))
    for name, text in JSON_SEEDS.items():
        json.loads(text)
        write(os.path.join(FUZZ, "json", name), text.encode("utf-8"))


def read_bytes(data, name):
    """A strict reader, checking what the safetensors library checks."""
    if len(data) < 8:
        raise ValueError("%s: shorter than 8 bytes" % name)
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError("%s: bad header length %d" % (name, n))
    header = json.loads(data[8:8 + n].decode("utf-8"),
                        object_pairs_hook=lambda pairs: _no_duplicates(pairs, name))
    header.pop("__metadata__", None)
    body = data[8 + n:]
    at, out = 0, {}
    for k, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        b, e = info["data_offsets"]
        numel = math.prod(info["shape"])
        if b != at or e - b != numel * SIZES[info["dtype"]]:
            raise ValueError("%s: tensor %s: bad offsets %s" % (name, k, info["data_offsets"]))
        at = e
        dtype = TORCH[info["dtype"]]
        fmt = "<%d%s" % (numel, "f" if dtype == torch.float32 else "q")
        out[k] = torch.tensor(struct.unpack(fmt, body[b:e]), dtype=dtype).reshape(info["shape"])
    if at != len(body):
        raise ValueError("%s: %d bytes after the last tensor" % (name, len(body) - at))
    return out


def _no_duplicates(pairs, name):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("%s: duplicate keys" % name)
    return dict(pairs)


def verify(paths):
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        assert n % 8 == 0, "header not padded to a multiple of 8"
        tensors = read_bytes(data, path)
        print("%s: %d tensors, header %d bytes" % (path, len(tensors), n))
        for k, t in tensors.items():
            print("  %s %s %s sum=%r" % (k, str(t.dtype).replace("torch.", ""), tuple(t.shape),
                                         t.double().sum().item()))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--verify":
        verify(sys.argv[2:])
    else:
        main()
