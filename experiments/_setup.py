"""Makes the repository importable when a script is run as `python experiments/NAME.py`,
and runs a script's main so that a user's mistake is one line, not a traceback."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(main):
    from common import UserError

    try:
        main()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


def add_run_flags(p):
    """The flags every training script shares."""
    p.add_argument("--center-crop", action="store_true", help="crop images to a centred square first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints")
    p.add_argument("--sample-every", type=int, default=1000, help="steps between image grids")
    p.add_argument("--keep", type=int, default=3, help="checkpoints kept")
    p.add_argument("--cache-dir", default=os.path.join(ROOT, "results", "cache"))


def check_run_flags(args):
    from common import UserError

    for name in ("checkpoint_every", "sample_every", "keep"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")


def load_data(args, resolution, default_data):
    """--data, else the first default path that exists, else the embedded digits."""
    from common import data

    path = args.data
    if path is None:
        path = next((os.path.join(ROOT, d) for d in default_data
                     if os.path.exists(os.path.join(ROOT, d))), None)
    if path is None:
        print(f"no --data given and none of {', '.join(default_data)}: training on "
              "scikit-learn's handwritten digits (the embedded default)")
        return data.digits_images(resolution), "sklearn-digits"
    return data.load_images(path, resolution, center_crop=args.center_crop,
                            cache_dir=args.cache_dir), os.path.abspath(path)


def train(cfg, build_model, args, out, default_data):
    """Load the data, build the model with the run's seed, and train it under `out`."""
    import dataclasses

    import keras

    from common import data, loop

    images, source = load_data(args, cfg.resolution, default_data)
    train_images, test_images = data.split(images)
    keras.utils.set_random_seed(args.seed)
    model = build_model(cfg)
    print(f"{source}: {len(train_images)} training and {len(test_images)} test images at "
          f"{cfg.resolution}x{cfg.resolution}; {type(model).__name__} on {keras.backend.backend()}, "
          f"{cfg.steps} steps of batch {cfg.batch_size} -> {out}")
    sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                model.latents_per_round, model.latent_dim, args.seed, cfg.mirror)
    meta = {"config": dataclasses.asdict(cfg), "seed": args.seed, "data": source,
            "backend": keras.backend.backend(), "preset": args.preset}
    loop.train(model, sampler, test_images, out, meta, cfg.steps, resume=args.resume,
               checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
               keep=args.keep)
    print(f"done: {out}")
