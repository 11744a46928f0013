"""A trained run's sampling networks alone, small enough to share: weights only.

    python experiments/export_weights.py --run results/NAME --out results/pretrained/NAME

Writes OUT/checkpoints/ckpt-STEP.npz with the generator's and encoder's weights (and their
weight averages, where the run keeps them), without the discriminators and optimizer slots;
OUT/fixed.npz, the run's first fixed test images and z (as many as the figures use); and
OUT/losses.csv. `sample.py`, `figures.py` and `evaluate.py` take OUT as a run folder;
`--resume` refuses it, since training needs what was left out.
"""

import argparse
import os
import shutil

import _setup
import runs

FIGURE_IMAGES = 50  # figures.py: 50 real/reconstruction pairs at most, 30 compared, 16 interpolated
FIGURE_LATENTS = 100  # figures.py: at most 100 samples from fixed z, the same 100 compared


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a training run's folder")
    p.add_argument("--out", required=True, help="folder to write (must not hold a checkpoint)")
    args = p.parse_args(argv)

    import numpy as np

    from common import UserError, checkpoint, files

    model, state, meta = runs.load_run(args.run)
    if checkpoint.list_checkpoints(os.path.join(args.out, "checkpoints")):
        raise UserError(f"{args.out} already holds a checkpoint: choose another --out")
    networks = [n for n in ("generator", "encoder") if n in model.network_names]
    kept = {k: v for k, v in meta.items() if k not in ("checkpoint", "step")}
    path = checkpoint.save(os.path.join(args.out, "checkpoints"), meta["step"],
                           checkpoint.weights_of(state, networks),
                           {**kept, "weights_only": networks, "exported_from": os.path.basename(meta["checkpoint"])})
    with np.load(os.path.join(args.run, "fixed.npz")) as f:
        images, z = f["images"][:FIGURE_IMAGES], f["z"][:FIGURE_LATENTS]
    files.write_atomic(os.path.join(args.out, "fixed.npz"), lambda f: np.savez(f, images=images, z=z))
    if os.path.exists(os.path.join(args.run, "losses.csv")):
        shutil.copyfile(os.path.join(args.run, "losses.csv"), os.path.join(args.out, "losses.csv"))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(f"{', '.join(networks)} at step {meta['step']} -> {path} ({size / 2**20:.1f} MiB in {args.out})")


if __name__ == "__main__":
    _setup.run(main)
