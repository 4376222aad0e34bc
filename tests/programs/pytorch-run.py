#!/usr/bin/python3
"""Runs the corpus (tests/programs/*.py), the lessons (resources/lessons/*.py, whose
fixtures go to tests/programs/lessons/) and the examples (resources/examples/*.py, to
tests/programs/examples/) under real PyTorch (Debian's python3-torch,
1.13) and writes, or checks, what each program prints: NAME.out (stdout) and, for a
program that ends in an uncaught exception, NAME.err (the traceback's last line,
`Type: message`), and for a program whose header names its graph (`# graph: loss`)
— or a lesson, whose graph is in python/lessons.c's table (LESSON_GRAPHS) —
NAME.graph: that variable's graph at the end, node for node (graph_signature).

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
EXAMPLES = os.path.join(HERE, "..", "..", "resources", "examples")
FOLDERS = [(HERE, HERE), (LESSONS, os.path.join(HERE, "lessons")),
           (EXAMPLES, os.path.join(HERE, "examples"))]
DEFAULT_SEED = 67280421310721  # a fresh process's torch.initial_seed()
# The variable each lesson draws, as python/lessons.c's table has it.
LESSON_GRAPHS = {"autograd": "Q", "requires-grad": "b", "resnet18-step": "loss",
                 "finetune": "loss", "dynamic": "y", "freeze": "loss"}
RENAMED_IN_2X = {"ReshapeAliasBackward0": "ViewBackward0"}


def graph_signature(root):
    """The graph below root, breadth-first over next_functions (node i is the i-th
    reached): one line per node, its class name and its next_functions as indices,
    `-` for None. test-programs.c writes GradLens's graph the same way."""
    order, index, lines = [root], {root: 0}, []
    i = 0
    while i < len(order):
        fn = order[i]
        slots = []
        for nxt, _ in fn.next_functions:
            if nxt is None:
                slots.append("-")
                continue
            if nxt not in index:
                index[nxt] = len(order)
                order.append(nxt)
            slots.append(str(index[nxt]))
        name = fn.name().replace("torch::autograd::", "")
        # The one node 1.13 names otherwise than 2.x, which GradLens follows: a
        # reshape or flatten of a contiguous tensor (PYTORCH-SEMANTICS.md).
        name = RENAMED_IN_2X.get(name, name)
        lines.append(f"{i} {name} {' '.join(slots)}".rstrip() + "\n")
        i += 1
    return "".join(lines)


def header_graph(source):
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# graph:"):
            return line[len("# graph:"):].strip()
    return None


def run(path):
    torch.manual_seed(DEFAULT_SEED)
    torch.set_grad_enabled(True)
    out = io.StringIO()
    err = None
    source = open(path, encoding="utf-8").read()
    env = {"__name__": "__main__", "__file__": path}
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(source, path, "exec"), env)
        except Exception as e:  # noqa: BLE001 - the program's own exception is the result
            err = traceback.format_exception_only(type(e), e)[-1].rstrip("\n")
    name = header_graph(source)
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(LESSONS):
        name = LESSON_GRAPHS[os.path.basename(path)[:-3]]
    graph = graph_signature(env[name].grad_fn) if name and env.get(name) is not None else None
    return out.getvalue(), err, graph


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
    out, err, graph = run(program)
    files = {name + ".out": out, name + ".err": err + "\n" if err else None,
             name + ".graph": graph}
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
