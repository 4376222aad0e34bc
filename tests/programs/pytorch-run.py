#!/usr/bin/python3
"""Runs the corpus (tests/programs/*.py) and the lessons (resources/lessons/*.py, whose
fixtures go to tests/programs/lessons/) under real PyTorch (Debian's python3-torch,
1.13) and writes, or checks, what each program prints: NAME.out (stdout) and, for a
program that ends in an uncaught exception, NAME.err (the traceback's last line,
`Type: message`).

    /usr/bin/python3 tests/programs/pytorch-run.py            # write the fixtures
    /usr/bin/python3 tests/programs/pytorch-run.py --check    # compare, exit 1 on a change

Each program runs in fresh globals after the state a new process has (torch's
default seed, grad mode on), as GradLens runs it. Exits 77 (skip) without torch.
"""

import contextlib
import io
import os
import sys
import traceback

try:
    import torch
except ImportError:
    print("pytorch-run: no torch under this Python: nothing to compare", file=sys.stderr)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
LESSONS = os.path.join(HERE, "..", "..", "resources", "lessons")
FOLDERS = [(HERE, HERE), (LESSONS, os.path.join(HERE, "lessons"))]
DEFAULT_SEED = 67280421310721  # a fresh process's torch.initial_seed()


def run(path):
    torch.manual_seed(DEFAULT_SEED)
    torch.set_grad_enabled(True)
    out = io.StringIO()
    err = None
    source = open(path, encoding="utf-8").read()
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
        except Exception as e:  # noqa: BLE001 - the program's own exception is the result
            err = traceback.format_exception_only(type(e), e)[-1].rstrip("\n")
    return out.getvalue(), err


def main():
    check = "--check" in sys.argv
    changed = []
    count = 0
    for src, dst in FOLDERS:
        names = sorted(n[:-3] for n in os.listdir(src)
                       if n.endswith(".py") and n != os.path.basename(__file__))
        os.makedirs(dst, exist_ok=True)
        for name in names:
            count += 1
            changed += record(os.path.join(src, name + ".py"), dst, name, check)
    if check and changed:
        print("pytorch-run: PyTorch now prints otherwise for: " + ", ".join(changed))
        return 1
    print(f"pytorch-run: {count} programs {'checked' if check else 'written'}")
    return 0


def record(program, dst, name, check):
    """Writes (or compares) NAME.out and NAME.err in dst; returns what differed."""
    changed = []
    out, err = run(program)
    files = {name + ".out": out, name + ".err": err + "\n" if err else None}
    for fname, text in files.items():
        path = os.path.join(dst, fname)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            changed.append(fname)
        elif text is None:
            os.remove(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    return changed


if __name__ == "__main__":
    sys.exit(main())
