"""Train AEGAN, or its GAN or AAE baseline, on anime faces (or any folder/zip of images).

    python experiments/aegan_anime.py --data anime-faces-64.zip --out results/aegan
    python experiments/aegan_anime.py --preset small --steps 400     # embedded digits
"""

import argparse
import os

import _setup

from aegan.config import PRESETS
from runs import registry

DEFAULT_DATA = ("data/anime-faces-64.zip", "data/anime-faces-64", "data/anime-faces")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model",
                   help=f"one of {', '.join(registry.names(script='aegan_anime'))} (default aegan)")
    p.add_argument("--preset", default="paper", help=f"one of {', '.join(PRESETS)} (default paper)")
    _setup.add_data_flag(p, DEFAULT_DATA[0])
    p.add_argument("--steps", type=int, help="training steps; one round of updates = 4 steps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--latent-dim", type=int)
    p.add_argument("--resolution", type=int, help="32, 64 or 128")
    p.add_argument("--width", type=float, help="channel multiplier (1.0 = paper)")
    p.add_argument("--no-mirror", action="store_true", help="no horizontal-flip doubling")
    p.add_argument("--out", help="run folder (default results/<model>-<preset>-seed<seed>)")
    _setup.add_run_flags(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _setup.check_run_flags(args)
    values = _setup.overrides(
        args, model=args.model, steps=args.steps, batch_size=args.batch_size, latent_dim=args.latent_dim,
        resolution=args.resolution, width=args.width, mirror=False if args.no_mirror else None)
    cfg = registry.get(values.pop("model", "aegan"), script="aegan_anime").make_config(args.preset, **values)
    out = args.out or os.path.join("results", f"{cfg.model}-{args.preset}-seed{args.seed}")
    _setup.train(cfg, args, out, default_data=DEFAULT_DATA)


if __name__ == "__main__":
    _setup.run(main)
