"""Two training runs' loss logs side by side: each column's mean over windows of steps.

    python benchmarks/compare_runs.py results/ogan-f32 results/ogan-bf16 --windows 4

Made to show that a mixed-precision run tracks its float32 twin (same seed, same data, same
batches), but works for any two runs of one model. Prints figures; asserts nothing.
"""

import argparse
import csv
import os
import sys

import numpy as np


def read_losses(run_dir):
    path = os.path.join(run_dir, "losses.csv")
    if not os.path.exists(path):
        sys.exit(f"error: no losses.csv in {run_dir}")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"error: {path} has no rows yet")
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "seconds"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--windows", type=int, default=4, help="equal spans of steps to average over")
    args = p.parse_args()
    a, b = read_losses(args.run_a), read_losses(args.run_b)
    n = min(len(a["step"]), len(b["step"]))
    columns = [k for k in a if k in b and k != "step"]
    edges = np.linspace(0, n, args.windows + 1).astype(int)
    print(f"{args.run_a} (A) against {args.run_b} (B), {n} logged rows in common, "
          f"means over steps {a['step'][0]:.0f}-{a['step'][n - 1]:.0f} in {args.windows} windows")
    spans = [f"steps {a['step'][lo]:.0f}-{a['step'][hi - 1]:.0f}" for lo, hi in zip(edges, edges[1:])]
    print(f"{'column':34s} " + " ".join(s.rjust(24) for s in spans))
    for k in columns:
        cells = [f"{a[k][lo:hi].mean():+.4f} / {b[k][lo:hi].mean():+.4f}".rjust(24)
                 for lo, hi in zip(edges, edges[1:])]
        print(f"{k:34s} " + " ".join(cells))
    print("(each cell: A / B)")


if __name__ == "__main__":
    main()
