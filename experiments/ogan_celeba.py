"""Train O-GAN on CelebA (or CelebA-HQ, FFHQ, LSUN, any folder or zip of images).

    python experiments/ogan_celeba.py --data celeba.zip --out results/ogan        # the paper's setting
    python experiments/ogan_celeba.py --preset small --steps 200                  # embedded digits
    python experiments/ogan_celeba.py --preset authors --data celeba.zip          # the authors' variant

Presets: paper (128x128, Table 1), authors (4x4 kernels, self-modulated BatchNorm in G, weight
averages 0.999 and 0.9999 for sampling, codes x 0.9), 256 (z 256, batch 48, correlation weight
1), small (32x32, half the channels: minutes on 2 CPU cores), tiny (tests).

Images are centre-cropped to a square before resizing (CelebA's aligned faces, LSUN);
`--no-center-crop` keeps square sources untouched.
"""

import argparse
import os

import _setup

from ogan.config import PRESETS, make_config

DEFAULT_DATA = ("data/celeba-hq", "data/celeba.zip", "data/celeba")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="paper", help=f"one of {', '.join(PRESETS)} (default paper)")
    _setup.add_data_flag(p, DEFAULT_DATA[0])
    p.add_argument("--steps", type=int, help="iterations (one joint E and G update each)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--resolution", type=int, help="32, 64, 128 or 256")
    p.add_argument("--latent-dim", type=int, help="size of z (128)")
    p.add_argument("--width", type=float, help="channel multiplier (1.0 = Table 1)")
    p.add_argument("--kernel-size", type=int, help="5 (paper) or 4 (the authors' variant)")
    p.add_argument("--lr", type=float, help="RMSprop learning rate (1e-4)")
    p.add_argument("--corr-weight", type=float, help="lambda_2 of eq. 11 (0.5; 0 trains a plain GAN)")
    p.add_argument("--reconstruction-scale", type=float, help="1.0 (eq. 10) or the authors' 0.9")
    p.add_argument("--adversarial", help="f, g, h of eq. 6: linear (eq. 11, default), vanilla (eq. 2) or hinge")
    p.add_argument("--score", help="average: D(x) = avg(E(x)) (eq. 8, default); head: a separate T(E(x)) (eq. 5)")
    p.add_argument("--generator-norm", help="batch (default) or self-modulated (the authors' variant)")
    p.add_argument("--ema", help="weight-average decays, comma-separated, e.g. 0.999,0.9999 "
                                 "(the first one samples); 'none' for none")
    p.add_argument("--no-center-crop", action="store_true", help="do not crop to a centred square")
    p.add_argument("--out", help="run folder (default results/ogan-<preset>-seed<seed>)")
    _setup.add_run_flags(p)
    args = p.parse_args(argv)
    args.center_crop = not args.no_center_crop
    return args


def parse_decays(text):
    from common.config import ConfigError

    if text is None:
        return None
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(float(d) for d in text.split(","))
    except ValueError:
        raise ConfigError(f"--ema takes decays separated by commas, e.g. 0.999,0.9999, not {text!r}") from None


def main(argv=None):
    args = parse_args(argv)
    _setup.check_run_flags(args)
    cfg = make_config(args.preset, **_setup.overrides(
        args, steps=args.steps, batch_size=args.batch_size, resolution=args.resolution, latent_dim=args.latent_dim,
        width=args.width, kernel_size=args.kernel_size, correlation_weight=args.corr_weight,
        learning_rate=args.lr, reconstruction_scale=args.reconstruction_scale, adversarial=args.adversarial,
        score=args.score, generator_norm=args.generator_norm, ema_decays=parse_decays(args.ema)))
    out = args.out or os.path.join("results", f"ogan-{args.preset}-seed{args.seed}")
    _setup.train(cfg, args, out, default_data=DEFAULT_DATA)


if __name__ == "__main__":
    _setup.run(main)
