#!/usr/bin/python3
"""compare-pytorch.py — gradlens-bench's cases in PyTorch, side by side with ours.

Runs our bench (gradlens-bench --json) and the same training steps in PyTorch, with
the same thread settings for both: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
torch.set_num_threads all set to --threads (PyTorch's set_num_threads alone does not
limit OpenBLAS, and two pools of two threads oversubscribe two cores). Each case of
each side runs in its own process, so peak RSS is the case's own; the two sides
alternate, --repeat times per case, and each figure is the median over the repeats
of the per-run medians (the spread of those is printed as the noise). On a shared
machine, --wait-idle N waits up to N seconds before each run for the CPUs to be
idle (90% over 2 s). Prints, per case, our median step, PyTorch's, and the ratio
(ours / PyTorch: below 1 is faster).

  /usr/bin/python3 bench/compare-pytorch.py --bench build/bench/gradlens-bench --threads 2

PyTorch is optional (Debian: apt-get install python3-torch python3-torchvision);
without it the script says so and prints our figures alone.

The step is lesson 3's: prediction = model(data); loss = (prediction - labels).sum();
loss.backward(); optim.step(); optim.zero_grad(set_to_none=True) with
SGD(lr=1e-2, momentum=0.9), data = rand(batch, 3, size, size), labels = rand(batch,
classes); fine-tune freezes every parameter and replaces fc by Linear(512, 10).
GradLens's zero_grad sets .grad to None too.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    # name: (batch, size, finetune)
    "b1-64": (1, 64, False),
    "b1-224": (1, 224, False),
    "b8-224": (8, 224, False),
    "finetune-224": (1, 224, True),
}
PHASES = ("forward", "backward", "optimizer", "step")


def thread_env(threads):
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "GRADLENS_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_pytorch_case(name, threads, steps, warmup):
    """In this (child) process: time the case, print one JSON object."""
    import torch
    import torchvision

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch, size, finetune = CASES[name]
    model = torchvision.models.resnet18()
    classes = 1000
    if finetune:
        for p in model.parameters():
            p.requires_grad = False
        model.fc = torch.nn.Linear(512, 10)
        classes = 10
    model.train()
    data = torch.rand(batch, 3, size, size)
    labels = torch.rand(batch, classes)
    optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

    def step():
        t0 = time.perf_counter()
        pred = model(data)
        loss = (pred - labels).sum()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optim.step()
        optim.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        return ((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3)

    for _ in range(warmup):
        step()
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = [step() for _ in range(steps)]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
    out = {"case": name, "threads": threads, "steps": steps,
           "faults_per_step": faults / steps,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    for i, phase in enumerate(PHASES):
        col = [t[i] for t in times]
        out[phase + "_median_ms"] = statistics.median(col)
        out[phase + "_min_ms"] = min(col)
    print(json.dumps(out))


def have_torch():
    try:
        subprocess.run([sys.executable, "-c", "import torch, torchvision"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True
    except (subprocess.CalledProcessError, OSError):
        return False


def find_bench():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    for build in sorted(os.listdir(root)):
        path = os.path.join(root, build, "bench", "gradlens-bench")
        if build.startswith("build") and os.access(path, os.X_OK):
            return path
    return None


def cpu_idle_fraction(seconds=2.0):
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_idle(limit):
    """Waits up to limit seconds for an idle moment; returns whether one came."""
    end = time.time() + limit
    while time.time() < end:
        if cpu_idle_fraction() >= 0.9:
            return True
    return limit <= 0


def run_ours(bench, cases, threads, steps, warmup):
    cmd = [bench, "--json", "--threads", str(threads), "--steps", str(steps),
           "--warmup", str(warmup), "--case", ",".join(cases)]
    proc = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
    results, header = {}, {}
    for line in proc.stdout.splitlines():
        obj = json.loads(line)
        if "sgemm_peak_gflops" in obj:
            header = obj      # the peak, the CPU, the OpenBLAS core, the kernel level
        else:
            results[obj["case"]] = obj
    return results, header


def run_theirs(name, threads, steps, warmup):
    cmd = [sys.executable, os.path.abspath(__file__), "--pytorch-case", name,
           "--threads", str(threads), "--steps", str(steps), "--warmup", str(warmup)]
    proc = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", help="gradlens-bench (default: build*/bench/gradlens-bench)")
    ap.add_argument("--case", default="b1-64,b1-224,b8-224,finetune-224,lesson",
                    help="comma-separated cases (lesson: ours only, against our b1-64)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="runs per side and case (default 3)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="before each run, wait up to this long for idle CPUs")
    ap.add_argument("--json", action="store_true", help="one JSON object per case")
    ap.add_argument("--pytorch-case", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.pytorch_case:
        run_pytorch_case(args.pytorch_case, args.threads, args.steps, args.warmup)
        return 0

    cases = [c.strip() for c in args.case.split(",") if c.strip()]
    for c in cases:
        if c not in CASES and c != "lesson":
            ap.error("no case %r" % c)
    bench = args.bench or find_bench()
    if bench is None:
        ap.error("no gradlens-bench found: build it, or give --bench")

    torch_ok = have_torch()
    if not torch_ok:
        print("PyTorch is not installed (apt-get install python3-torch python3-torchvision): "
              "our figures only.\n")

    # Alternate the sides, case by case, --repeat times.
    runs = {}          # case -> {"ours": [...], "torch": [...]}
    peaks, quiet, header = [], True, {}
    for name in cases:
        runs[name] = {"ours": [], "torch": []}
        for _ in range(args.repeat):
            quiet &= wait_idle(args.wait_idle)
            mine, got = run_ours(bench, [name] if name != "lesson" else ["b1-64", "lesson"],
                                 args.threads, args.steps, args.warmup)
            header = got or header
            if got.get("sgemm_peak_gflops"):
                peaks.append(got["sgemm_peak_gflops"])
            if name == "lesson":
                if "lesson" in mine and "b1-64" in mine:
                    runs[name]["ours"].append(mine["lesson"])
                    runs[name]["torch"].append(mine["b1-64"])   # our plain step, to compare
                continue
            if name in mine:
                runs[name]["ours"].append(mine[name])
            if torch_ok:
                quiet &= wait_idle(args.wait_idle)
                theirs = run_theirs(name, args.threads, args.steps, args.warmup)
                if theirs:
                    runs[name]["torch"].append(theirs)
    peak = statistics.median(peaks) if peaks else None

    def med(results, key):
        vals = [r[key] for r in results]
        return statistics.median(vals) if vals else None

    def spread(results, key):
        vals = [r[key] for r in results]
        return (min(vals), max(vals)) if vals else None

    print("%s; OpenBLAS core %s; GradLens kernels %s" % (
        header.get("cpu", "?"), header.get("openblas_core", "?"), header.get("kernels", "?")))
    print("%d thread%s (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, torch.set_num_threads), "
          "%d warm-up + %d timed steps per run, %d run%s per side and case, alternating; "
          "medians; sgemm peak %s GFLOP/s%s"
          % (args.threads, "" if args.threads == 1 else "s", args.warmup, args.steps,
             args.repeat, "" if args.repeat == 1 else "s",
             "%.0f" % peak if peak else "?",
             "" if quiet else " (the machine was busy during some runs)"))
    print("%-13s %-9s %10s %10s %7s   %8s %6s   %9s %9s   %s" % (
        "case", "phase", "GradLens", "PyTorch", "ratio", "GFLOP/s", "%peak", "RSS ours",
        "RSS torch", "noise (ours, PyTorch: min–max of the runs)"))
    for name in cases:
        mine, theirs = runs[name]["ours"], runs[name]["torch"]
        if args.json:
            print(json.dumps({"case": name, "gradlens": mine,
                              "pytorch" if name != "lesson" else "plain": theirs}))
            continue
        if name == "lesson":
            a, b = med(mine, "step_median_ms"), med(theirs, "step_median_ms")
            if a and b:
                print("%-13s %-9s %7.2f ms %7.2f ms %6.3fx   (the plain b1-64 step of the same "
                      "runs in the PyTorch column)" % (name, "step", a, b, a / b))
            continue
        for phase in PHASES:
            key = phase + "_median_ms"
            a, b = med(mine, key), med(theirs, key)
            ratio = "%6.2fx" % (a / b) if a is not None and b else ""
            rate = pct = rss = noise = ""
            if phase == "step":
                if a:
                    gf = mine[0]["gflop"] / (a / 1e3)
                    rate = "%8.1f" % gf
                    pct = "%5.0f%%" % (100 * gf / peak) if peak else ""
                rss = "%6.0f MB %6s" % (med(mine, "peak_rss_mb") or float("nan"),
                                        "%.0f MB" % med(theirs, "peak_rss_mb") if theirs else "")
                sa, sb = spread(mine, key), spread(theirs, key)
                noise = "%s, %s" % ("%.1f–%.1f" % sa if sa else "-",
                                    "%.1f–%.1f" % sb if sb else "-")
            print("%-13s %-9s %10s %10s %7s   %8s %6s   %s   %s" % (
                name if phase == "forward" else "", phase,
                "%7.2f ms" % a if a is not None else "-",
                "%7.2f ms" % b if b is not None else "-", ratio, rate, pct, rss, noise))
    return 0


if __name__ == "__main__":
    sys.exit(main())
