"""How evenly a 2-D run covers the mixture's modes, checkpoint by checkpoint.

    python experiments/mode_counts.py results/pacgan-cmp-grid25/aegan-seed2 --data grid25
    python experiments/mode_counts.py results/pacgan-cmp-grid25/gan-seed2 --data grid25 --from-step 60000

`mode_collapse.py` counts a mode covered when one of 2,500 samples lands on it, as PacGAN
does; a mode with 1 sample and a mode with 300 count the same. This reads the samples that
`mode_collapse.py --curve-every` saves beside each checkpoint (samples-<step>.npy in the run
folder) and prints, per checkpoint: modes covered, modes with no sample, modes holding under
a tenth of an even share of the samples ("thin"), the fewest samples on a mode, and the
high-quality share. Samples on a mode are high-quality samples nearest to it, as in
`collapse.mixtures.coverage`.
"""

import argparse
import glob
import os
import re

import _setup


def mode_summary(counts, samples):
    """`coverage` with the empty and thin modes (under a tenth of an even share of `samples`) and
    the fewest samples on a mode, from per-mode counts."""
    from collapse import mixtures

    even = samples / len(counts)
    return {**mixtures.coverage_of_counts(counts, samples), "empty": int((counts == 0).sum()),
            "thin": int((counts < even / 10).sum()), "fewest": int(counts.min())}


def checkpoint_samples(run_dir, from_step=0):
    """[(step, path)] of the run's samples-<step>.npy, in step order."""
    found = []
    for path in glob.glob(os.path.join(run_dir, "samples-*.npy")):
        match = re.fullmatch(r"samples-(\d+)\.npy", os.path.basename(path))
        if match and int(match.group(1)) >= from_step:
            found.append((int(match.group(1)), path))
    return sorted(found)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run folders of mode_collapse.py (--out/MODEL-seedS)")
    p.add_argument("--data", required=True, help="the mixture the runs learned: ring8 or grid25")
    p.add_argument("--from-step", type=int, default=0, help="only checkpoints from this step on")
    args = p.parse_args(argv)

    import numpy as np

    from collapse import mixtures
    from common import UserError

    mixtures.mixture(args.data)  # an unknown name is one clear line
    found = {run_dir: checkpoint_samples(run_dir, args.from_step) for run_dir in args.runs}
    for run_dir, samples in found.items():
        if not samples:
            raise UserError(f"no samples-<step>.npy from step {args.from_step} on in {run_dir}: "
                            "give a run folder of mode_collapse.py --curve-every")
    print("| run | step | modes | empty | thin | fewest | high quality |")
    print("|---|---|---|---|---|---|---|")
    for run_dir, samples in found.items():
        for step, path in samples:
            points = np.load(path)
            s = mode_summary(mixtures.mode_counts(args.data, points), len(points))
            print(f"| {os.path.basename(os.path.normpath(run_dir))} | {step} | {s['modes']} of {s['of']} | "
                  f"{s['empty']} | {s['thin']} | {s['fewest']} | {s['high_quality']:.1%} |")


if __name__ == "__main__":
    _setup.run(main)
