#!/usr/bin/python3
"""make-pth-fixtures.py — PyTorch-made fixtures for tests/test-pth.c and
tests/test-image-input.c.

Run with the system Python that has PyTorch 1.13 and torchvision 0.14:

    /usr/bin/python3 tools/make-pth-fixtures.py     # writes tests/data/pth/*, tests/data/images/*
                                                    # and the seeds of tests/data/fuzz/pth/

Neither the build nor CI needs PyTorch: the fixtures are committed. Raw .bin files
are float32, little-endian, row-major, nothing else.

tests/data/pth/ (every good file is loaded back with torch.load here, and checked)
-----------------
small.pth          torch.save(OrderedDict) of formula tensors, so the C test knows
                   every value without another file (i = flat index):
                     weight (2, 3, 4)     F32  0.5 * i - 3
                     bias (3,)            F32  [1.5, -2.25, 0.001]
                     w4 (2, 3, 2, 2)      F32  i / 7
                     scalar ()            F32  3.25
                     count ()             I64  7          (like num_batches_tracked)
                     ids (5,)             I64  i * 10**12 - 3
small-legacy.pth   the same with _use_new_zipfile_serialization=False (PyTorch < 1.6;
                   its storage keys are memory addresses: it differs at every run)
small-proto4.pth   the same with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL, …)
small-big.pth      the same, rewritten big-endian: byteorder "big", storages swapped
views.pth          a plain dict of views sharing one storage, base = arange(20) as
                   4x5 (value 5 * row + col): base, t = base.t(), rows = base[1:3],
                   cols = base[:, 1:4], step = base[::2, ::2], elem = base[2, 3],
                   and param = nn.Parameter(arange(3) + 0.5) (_rebuild_parameter)
narrow.pth         a narrow resnet18 (torchvision's classes, widths 4, 8, 16, 32,
                   fc 32 -> 10), torch.manual_seed(0) init, three train-mode forwards
                   so the running stats and num_batches_tracked are not the defaults
narrow-logits.bin  (1, 10): that model in eval mode on x (1, 3, 32, 32),
                   x[i] = ((37 * i) % 101) / 50 - 1 in float32
narrow-photo-224-logits.bin  (1, 10): that model on ToTensor + Normalize of
                   images/photo-224.png (for gradlens-cli predict)
bad-*.pth          files that must be refused (see BAD below for each reason)

tests/data/images/
------------------
photo-224.png          a synthetic 224x224 RGB picture
photo-224.bin          (1, 3, 224, 224): ToTensor + Normalize(ImageNet) of it
photo-large.jpg        400x300 JPEG (quality 90)
photo-large-crop.png   CenterCrop(224)(Resize(256)(it)) with PIL: what ToTensor sees
small-up.png           150x100 RGB (upscaled by Resize(256))
small-up-crop.png      its Resize + CenterCrop
alpha.png              240x230 RGBA; alpha-crop.png: convert("RGB"), Resize, CenterCrop
For every crop, Normalize(ToTensor(crop)) == the full transform is asserted here.
"""

import collections
import io
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
from PIL import Image, ImageDraw, ImageFilter
from torchvision import transforms as T

from fixtures_common import MEAN, STD, narrow_resnet18

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PTH = os.path.join(ROOT, "tests", "data", "pth")
IMAGES = os.path.join(ROOT, "tests", "data", "images")
FUZZ = os.path.join(ROOT, "tests", "data", "fuzz", "pth")


def write_bin(path, t):
    t = t.detach().contiguous().to(torch.float32)
    with open(path, "wb") as f:
        f.write(struct.pack(f"<{t.numel()}f", *t.reshape(-1).tolist()))


def same(a, b):
    """Two state dicts: same names in the same order, same dtypes, shapes, values."""
    assert list(a.keys()) == list(b.keys()), (list(a.keys()), list(b.keys()))
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        assert torch.equal(a[k], b[k]), k


# --- state dicts -----------------------------------------------------------------

def small_state_dict():
    sd = collections.OrderedDict()
    sd["weight"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) * 0.5 - 3
    sd["bias"] = torch.tensor([1.5, -2.25, 0.001], dtype=torch.float32)
    sd["w4"] = torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2) / 7
    sd["scalar"] = torch.tensor(3.25, dtype=torch.float32)
    sd["count"] = torch.tensor(7, dtype=torch.int64)
    sd["ids"] = torch.arange(5, dtype=torch.int64) * 10**12 - 3
    return sd


def views_dict():
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    d = {
        "base": base,
        "t": base.t(),
        "rows": base[1:3],
        "cols": base[:, 1:4],
        "step": base[::2, ::2],
        "elem": base[2, 3],
        "param": nn.Parameter(torch.arange(3, dtype=torch.float32) + 0.5),
    }
    assert not d["t"].is_contiguous() and not d["cols"].is_contiguous()
    assert d["rows"].storage_offset() == 5 and d["elem"].storage_offset() == 13
    return d


def formula_input(shape):
    n = int(np.prod(shape))
    i = torch.arange(n, dtype=torch.int64)
    return (((37 * i) % 101).to(torch.float32) / 50 - 1).reshape(shape)


def make_narrow():
    torch.manual_seed(0)
    model = narrow_resnet18(4, 10)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(2, 3, 32, 32) * 2)
    model.eval()
    path = os.path.join(PTH, "narrow.pth")
    torch.save(model.state_dict(), path)
    same(torch.load(path), model.state_dict())
    with torch.no_grad():
        logits = model(formula_input((1, 3, 32, 32)))
    write_bin(os.path.join(PTH, "narrow-logits.bin"), logits)
    nbt = model.state_dict()["bn1.num_batches_tracked"].item()
    assert nbt == 3, nbt
    return model


# --- zip surgery for the big-endian and the bad files ----------------------------

def entries(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def write_zip(path, items, compress=False):
    """Stored (or deflated) entries with a fixed date: the same bytes at every run."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            z.writestr(info, data)


def make_big_endian(src, dst):
    """Rewrite src big-endian: byteorder "big", every storage's elements swapped.
    The dtype of each storage is read from a load of the original."""
    sd = torch.load(src)
    items = entries(src)
    prefix = items[0][0].split("/")[0]
    sizes = {}
    with zipfile.ZipFile(src) as z:
        import pickle

        class Peek(pickle.Unpickler):
            def find_class(self, module, name):
                if module == "torch" and name.endswith("Storage"):
                    return name
                if name == "_rebuild_tensor_v2":
                    return lambda *args: None
                return super().find_class(module, name)

            def persistent_load(self, pid):
                sizes[pid[2]] = {"FloatStorage": 4, "LongStorage": 8}[pid[1]]
                return torch.zeros(0)

        Peek(io.BytesIO(z.read(prefix + "/data.pkl"))).load()
    out = []
    for name, data in items:
        key = name[len(prefix) + len("/data/"):] if name.startswith(prefix + "/data/") else None
        if key is not None:
            w = sizes[key]
            a = np.frombuffer(data, dtype=np.uint8).reshape(-1, w)[:, ::-1]
            data = a.tobytes()
        out.append((name, data))
    out.append((prefix + "/byteorder", b"big"))
    write_zip(dst, out)
    try:
        back = torch.load(dst)      # PyTorch ≥ 2.1 reads byteorder; 1.13 does not
        same(back, sd)
        print("  torch.load reads", os.path.basename(dst), "identically")
    except AssertionError:
        print("  (this PyTorch ignores byteorder: small-big.pth is checked by the C test only)")


# A pickle that would run os.system("echo pwned") if unpickled: never torch.load it.
EVIL_PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."


def make_bad(small):
    items = entries(small)
    prefix = items[0][0].split("/")[0]
    pkl = dict(items)[prefix + "/data.pkl"]
    data = open(small, "rb").read()
    bad = {}

    # Cut in the middle: no end of central directory.
    bad["truncated"] = data[: len(data) // 2]
    # Not a zip, not a pickle.
    bad["text"] = b"this is not a PyTorch file\n" * 4
    # One byte of a storage flipped: its CRC-32 no longer matches.
    first_storage = [n for n, _ in items if "/data/" in n][0]
    buf = io.BytesIO()
    write_zip(buf, items)
    z = buf.getvalue()
    off = z.index(dict(items)[first_storage])
    bad["crc"] = z[:off + 3] + bytes([z[off + 3] ^ 0x40]) + z[off + 4:]
    # data.pkl cut before its STOP.
    bad["pickle"] = [(n, d[: len(d) // 2] if n.endswith("data.pkl") else d) for n, d in items]
    # A pickled os.system call instead of a state_dict.
    bad["global"] = [(prefix + "/data.pkl", EVIL_PICKLE), (prefix + "/version", b"3\n")]
    # Entries compressed (deflate): torch.save never does.
    bad["deflate"] = (items, True)
    # A storage shorter than its tensor says.
    bad["short-storage"] = [(n, d[:-4] if n == first_storage else d) for n, d in items]
    # A view past its storage: 'bias' (3 elements) read from offset 2.
    i = pkl.index(b"bias")
    j = pkl.index(b"Q", i)          # BINPERSID, then BININT1 offset
    assert pkl[j + 1:j + 3] == b"K\x00", pkl[j:j + 4]
    pkl_view = pkl[: j + 2] + b"\x02" + pkl[j + 3:]
    bad["view"] = [(n, pkl_view if n.endswith("data.pkl") else d) for n, d in items]
    # An unknown opcode (INST, which would call a class) in place of PROTO.
    bad["opcode"] = [(n, b"i" + d[2:] if n.endswith("data.pkl") else d) for n, d in items]

    for name, content in bad.items():
        path = os.path.join(PTH, f"bad-{name}.pth")
        if isinstance(content, bytes):
            open(path, "wb").write(content)
        elif isinstance(content, tuple):
            write_zip(path, content[0], compress=content[1])
        else:
            write_zip(path, content)

    # Well-formed torch.save files that are not state_dicts GradLens reads.
    torch.save([torch.zeros(2)], os.path.join(PTH, "bad-list.pth"))
    torch.save({"x": torch.zeros(2, dtype=torch.float64)}, os.path.join(PTH, "bad-float64.pth"))
    torch.save({"model": small_state_dict(), "epoch": 3}, os.path.join(PTH, "bad-checkpoint.pth"))
    torch.save({"x": torch.zeros(1, 1, 1, 1, 2)}, os.path.join(PTH, "bad-5d.pth"))
    torch.save({"x": torch.zeros(2).expand(3, 2)}, os.path.join(PTH, "bad-expand.pth"))


# --- images -----------------------------------------------------------------------

def synthetic_photo(w, h, seed, mode="RGB"):
    """Smooth gradients, shapes with hard edges, fine stripes and a little noise:
    something of everything a resampling filter treats differently."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / w * 3.1 + y / h * 1.3)
    g = 128 + 100 * np.cos(y / h * 4.2 - x / w)
    b = 255 * (x + y) / (w + h)
    a = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (h, w, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.2, h * 0.25, w * 0.55, h * 0.7], fill=(230, 40, 30))
    d.rectangle([w * 0.6, h * 0.1, w * 0.9, h * 0.4], fill=(20, 200, 60))
    for k in range(0, w, 3):
        d.line([k, h * 0.8, k, h * 0.95], fill=(250, 250, 250) if k % 2 else (10, 10, 40))
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    if mode == "RGBA":
        alpha = Image.fromarray(((x * 255 / w).astype(np.uint8)), "L")
        img.putalpha(alpha)
    return img


def full_transform():
    return T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])


def normalize():
    return T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])


def write_crop(src_path, crop_path):
    """Store torchvision's Resize + CenterCrop as a lossless PNG, after checking
    that ToTensor + Normalize of it is exactly the full transform."""
    img = Image.open(src_path).convert("RGB")
    crop = T.CenterCrop(224)(T.Resize(256)(img))
    assert crop.size == (224, 224)
    crop.save(crop_path)
    again = Image.open(crop_path).convert("RGB")
    assert torch.equal(normalize()(again), full_transform()(img))


def make_images():
    photo = synthetic_photo(224, 224, 1)
    photo.save(os.path.join(IMAGES, "photo-224.png"))
    x = normalize()(Image.open(os.path.join(IMAGES, "photo-224.png")).convert("RGB"))
    write_bin(os.path.join(IMAGES, "photo-224.bin"), x.unsqueeze(0))

    synthetic_photo(400, 300, 2).save(os.path.join(IMAGES, "photo-large.jpg"), quality=90)
    write_crop(os.path.join(IMAGES, "photo-large.jpg"), os.path.join(IMAGES, "photo-large-crop.png"))

    synthetic_photo(150, 100, 3).save(os.path.join(IMAGES, "small-up.png"))
    write_crop(os.path.join(IMAGES, "small-up.png"), os.path.join(IMAGES, "small-up-crop.png"))

    synthetic_photo(240, 230, 4, "RGBA").save(os.path.join(IMAGES, "alpha.png"))
    write_crop(os.path.join(IMAGES, "alpha.png"), os.path.join(IMAGES, "alpha-crop.png"))


def main():
    for d in (PTH, IMAGES, FUZZ):
        os.makedirs(d, exist_ok=True)

    sd = small_state_dict()
    small = os.path.join(PTH, "small.pth")
    torch.save(sd, small)
    same(torch.load(small), sd)
    torch.save(sd, os.path.join(PTH, "small-legacy.pth"), _use_new_zipfile_serialization=False)
    same(torch.load(os.path.join(PTH, "small-legacy.pth")), sd)
    torch.save(sd, os.path.join(PTH, "small-proto4.pth"), pickle_protocol=4)
    same(torch.load(os.path.join(PTH, "small-proto4.pth")), sd)
    make_big_endian(small, os.path.join(PTH, "small-big.pth"))

    views = views_dict()
    torch.save(views, os.path.join(PTH, "views.pth"))
    back = torch.load(os.path.join(PTH, "views.pth"))
    for k in views:
        assert torch.equal(back[k], views[k]), k

    narrow = make_narrow()
    make_bad(small)
    make_images()

    # The command line end to end: gradlens-cli predict --image photo-224.png
    # --weights narrow.pth must print PyTorch's top classes of these logits.
    x = normalize()(Image.open(os.path.join(IMAGES, "photo-224.png")).convert("RGB"))
    with torch.no_grad():
        write_bin(os.path.join(PTH, "narrow-photo-224-logits.bin"), narrow(x.unsqueeze(0)))

    # Seeds for the fuzzer: small valid files of each kind and a few bad ones.
    for name in ("small.pth", "small-legacy.pth", "small-proto4.pth", "small-big.pth",
                 "views.pth", "bad-global.pth", "bad-view.pth", "bad-checkpoint.pth"):
        data = open(os.path.join(PTH, name), "rb").read()
        open(os.path.join(FUZZ, name), "wb").write(data)

    for d in (PTH, IMAGES):
        for f in sorted(os.listdir(d)):
            print(f"  {os.path.relpath(os.path.join(d, f), ROOT)}  {os.path.getsize(os.path.join(d, f))} bytes")


if __name__ == "__main__":
    sys.exit(main())
