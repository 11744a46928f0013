"""Samples, reconstructions and codes from a trained run's newest checkpoint, as .npz files.

    python experiments/sample.py --run results/NAME --n 5000 --out samples.npz
    python experiments/sample.py --run results/NAME --encode my-images/ --out encoded.npz

Samples: `images` (n, H, W, 3) uint8 and the `z` that made them. With --encode, each image of
a folder or zip: `images` (as the model sees them, resized), `reconstructions` G(E(x)) and
`codes` E(x) (O-GAN: standardised, eq. 10). O-GAN runs with weight averages sample from the
first one. Every file also holds `meta`: the run, checkpoint, step and seed, as JSON.
`python experiments/evaluate.py` reads these files.
"""

import argparse
import json
import os

import _setup
import runs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a training run's folder (holding checkpoints/)")
    p.add_argument("--out", required=True, help=".npz file to write")
    p.add_argument("--n", type=int, default=5000, help="samples to draw (default 5000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the z drawn")
    p.add_argument("--encode", help="folder or .zip of images to reconstruct instead of sampling")
    p.add_argument("--center-crop", action="store_true",
                   help="crop --encode images to a centred square first (default: as the run was trained)")
    args = p.parse_args(argv)

    from common import UserError

    if args.n < 1:
        raise UserError(f"--n must be at least 1, not {args.n}")
    if not args.out.endswith(".npz"):
        raise UserError(f"--out must name a .npz file, not {args.out}")
    import numpy as np

    from common import data, evaluation, files
    from common.inference import Inference

    model, state, meta = runs.load_run(args.run)
    inference = Inference(model)
    info = {"run": os.path.abspath(args.run), "checkpoint": meta["checkpoint"], "step": meta["step"],
            "model": meta.get("model"), "seed": args.seed, "data": meta.get("data"),
            "center_crop": meta.get("center_crop", False)}
    if args.encode:
        if not inference.can_encode:
            raise UserError(f"{args.run} is a {meta.get('model', 'GAN')} run: it has no encoder")
        crop = args.center_crop or meta.get("center_crop", False)
        images = data.load_images(args.encode, model.cfg.resolution, center_crop=crop)
        reconstructions, codes = inference.reconstruct(state, images)
        arrays = {"images": images, "codes": codes, "reconstructions": reconstructions}
        what = f"{len(images)} reconstructions and codes"
    else:
        images, z = evaluation.draw_samples(inference, state, args.n, model.latent_dim, args.seed)
        arrays = {"images": images, "z": z}
        what = f"{args.n} samples"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    files.write_atomic(args.out, lambda f: np.savez(f, meta=json.dumps(info), **arrays))
    print(f"{what} from {meta['checkpoint']} (step {meta['step']}) -> {args.out}")


if __name__ == "__main__":
    _setup.run(main)
