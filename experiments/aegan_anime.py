"""Train AEGAN, or its GAN or AAE baseline, on anime faces (or any folder/zip of images).

    python experiments/aegan_anime.py --data anime-faces-64.zip --out results/aegan
    python experiments/aegan_anime.py --preset small --steps 400     # embedded digits
"""

import argparse
import os

import _setup

from aegan.config import PRESETS, ConfigError, make_config

DEFAULT_DATA = ("data/anime-faces-64.zip", "data/anime-faces-64", "data/anime-faces")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="aegan", help="aegan (default), gan or aae")
    p.add_argument("--preset", default="paper", help=f"one of {', '.join(PRESETS)} (default paper)")
    p.add_argument("--data", help="folder or .zip of images (default: data/anime-faces-64.zip if "
                                  "present, else scikit-learn's digits)")
    p.add_argument("--steps", type=int, help="training steps; one round of updates = 4 steps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--latent-dim", type=int)
    p.add_argument("--resolution", type=int, help="32, 64 or 128")
    p.add_argument("--width", type=float, help="channel multiplier (1.0 = paper)")
    p.add_argument("--no-mirror", action="store_true", help="no horizontal-flip doubling")
    p.add_argument("--center-crop", action="store_true", help="crop images to a centred square first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="run folder (default results/<model>-<preset>-seed<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints")
    p.add_argument("--sample-every", type=int, default=1000, help="steps between image grids")
    p.add_argument("--keep", type=int, default=3, help="checkpoints kept")
    p.add_argument("--cache-dir", default=os.path.join(_setup.ROOT, "results", "cache"))
    return p.parse_args(argv)


def load_data(args, resolution):
    from common import data

    path = args.data
    if path is None:
        path = next((os.path.join(_setup.ROOT, d) for d in DEFAULT_DATA
                     if os.path.exists(os.path.join(_setup.ROOT, d))), None)
    if path is None:
        print("no --data given and no data/anime-faces-64.zip: training on scikit-learn's "
              "handwritten digits (the embedded default)")
        return data.digits_images(resolution), "sklearn-digits"
    return data.load_images(path, resolution, center_crop=args.center_crop,
                            cache_dir=args.cache_dir), os.path.abspath(path)


def main(argv=None):
    args = parse_args(argv)
    for name in ("checkpoint_every", "sample_every", "keep"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    cfg = make_config(args.preset, model=args.model, steps=args.steps, batch_size=args.batch_size,
                      latent_dim=args.latent_dim, resolution=args.resolution, width=args.width,
                      mirror=False if args.no_mirror else None)
    out = args.out or os.path.join("results", f"{cfg.model}-{args.preset}-seed{args.seed}")
    images, source = load_data(args, cfg.resolution)

    import dataclasses

    import keras

    from aegan.models import build_model
    from common import data, loop

    train_images, test_images = data.split(images)
    print(f"{source}: {len(train_images)} training and {len(test_images)} test images at "
          f"{cfg.resolution}x{cfg.resolution}; {cfg.model} on {keras.backend.backend()}, "
          f"{cfg.steps} steps of batch {cfg.batch_size} -> {out}")
    keras.utils.set_random_seed(args.seed)
    model = build_model(cfg)
    sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                model.latents_per_round, cfg.latent_dim, args.seed, cfg.mirror)
    meta = {"config": dataclasses.asdict(cfg), "seed": args.seed, "data": source,
            "backend": keras.backend.backend(), "preset": args.preset}
    loop.train(model, sampler, test_images, out, meta, cfg.steps, resume=args.resume,
               checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, keep=args.keep)
    print(f"done: {out}")


if __name__ == "__main__":
    _setup.run(main)
