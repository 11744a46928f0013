"""Whether this tree trains exactly as an earlier commit does: the same losses and weights.

    python benchmarks/same_as.py d0dd6ac
    python benchmarks/same_as.py HEAD~3 --backends jax --steps 80 --models aegan,ogan

For each model (AEGAN, its GAN and AAE baselines, O-GAN, each through its training script) and
backend, the `tiny` preset is trained for --steps steps from the same seed by the commit (checked
out in a temporary git worktree) and by this tree; then a run the commit trained to half the
steps is resumed by this tree to the end. Each line says whether the loss logs (every column but
the wall time) and the final checkpoints' arrays are equal. Exit status 1 when any differ: a
change meant to keep behaviour, such as a restructuring, is checked by running this against the
commit before it.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from common import checkpoint  # noqa: E402

SCRIPTS = {"aegan": "aegan_anime.py", "gan": "aegan_anime.py", "aae": "aegan_anime.py", "ogan": "ogan_celeba.py"}


def train(tree, model, backend, steps, out, cache, resume=False):
    script = SCRIPTS[model]
    args = [sys.executable, os.path.join(tree, "experiments", script), "--preset", "tiny", "--steps", str(steps),
            *(["--model", model] if script == "aegan_anime.py" else []),
            "--checkpoint-every", str(steps), "--sample-every", str(steps), "--cache-dir", cache, "--out", out]
    run = subprocess.run(args + (["--resume"] if resume else []), cwd=tree, capture_output=True, text=True,
                         env={**os.environ, "KERAS_BACKEND": backend})
    if run.returncode:
        sys.exit(f"error: {script} ({model}) under {backend} in {tree} failed:\n{run.stderr[-2000:]}")


def losses(run_dir):
    with open(os.path.join(run_dir, "losses.csv")) as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def arrays(run_dir):
    """The newest checkpoint's arrays, read as this tree reads them: under today's names where
    the commit wrote older ones (checkpoint.RENAMED_OPTIMIZERS)."""
    return checkpoint.read(checkpoint.list_checkpoints(os.path.join(run_dir, "checkpoints"))[-1])[1]


def same(a, b):
    wa, wb = arrays(a), arrays(b)
    return losses(a) == losses(b), wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("commit", help="the commit to compare with (any git revision)")
    p.add_argument("--backends", default="tensorflow,jax")
    p.add_argument("--steps", type=int, default=40, help="steps per run (default 40; even)")
    p.add_argument("--models", default=",".join(SCRIPTS), help=f"of {', '.join(SCRIPTS)} (default: all)")
    args = p.parse_args()
    models = args.models.split(",")
    if not set(models) <= set(SCRIPTS):
        sys.exit(f"error: --models takes a comma-separated list of {', '.join(SCRIPTS)}, not {args.models!r}")
    if args.steps < 2 or args.steps % 2:
        sys.exit(f"error: --steps must be an even number of at least 2, not {args.steps}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        made = subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, args.commit],
                              capture_output=True, text=True)
        if made.returncode:
            sys.exit(f"error: cannot check out {args.commit}: {made.stderr.strip()}")
        try:
            for backend in args.backends.split(","):
                cache = os.path.join(tmp, f"cache-{backend}")
                for model in models:
                    name = lambda who: os.path.join(tmp, f"{backend}-{model}-{who}")
                    train(tree, model, backend, args.steps, name("then"), cache)
                    train(ROOT, model, backend, args.steps, name("now"), cache)
                    train(tree, model, backend, args.steps // 2, name("resumed"), cache)
                    train(ROOT, model, backend, args.steps, name("resumed"), cache, resume=True)
                    for who, label in (("now", "trained here"), ("resumed", "its checkpoint resumed here")):
                        log, weights = same(name("then"), name(who))
                        failed |= not (log and weights)
                        print(f"{backend} {model}, {label}: losses {'equal' if log else 'DIFFER'}, "
                              f"weights {'equal' if weights else 'DIFFER'}", flush=True)
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], capture_output=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
