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
    p.add_argument("--skip-nonfinite", action="store_true",
                   help="drop an update whose loss or weights turn NaN or infinite, and go on "
                        "(default: stop at the last good state)")
    p.add_argument("--precision", help="float32 (default), mixed_bfloat16 or mixed_float16 (layers compute "
                                        "in 16 bits; weights and losses stay float32), or float64 (everything "
                                        "in float64, for debugging numerics; slow)")
    p.add_argument("--cpu-compile", default="auto", choices=("auto", "xla", "graph"),
                   help="TensorFlow on a CPU: XLA or a graph without it; auto (default) times both once "
                        "on this machine and caches the faster under --cache-dir")
    p.add_argument("--devices", type=int, help="devices to train on, the batch split over them "
                                               "(default: all, or as many as divide the batch size)")
    p.add_argument("--cache-dir", default=os.path.join(ROOT, "results", "cache"))
    p.add_argument("--no-program-cache", action="store_true",
                   help="JAX: compile every program afresh instead of keeping compiled programs under "
                        "--cache-dir/programs for the next start (a --resume loads them)")
    p.add_argument("--config", help="JSON file of config values ({\"latent_dim\": 16, ...}) over the "
                                    "preset's; flags given on the command line win")


def overrides(args, **flags):
    """Config values from --config's file, then the flags that were given."""
    from common import config

    flags = {"precision": getattr(args, "precision", None), **flags}
    return {**(config.read_file(args.config) if args.config else {}),
            **{k: v for k, v in flags.items() if v is not None}}


def check_run_flags(args):
    from common import UserError

    for name in ("checkpoint_every", "sample_every", "keep", "devices"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
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


def load_split(args, resolution, default_data):
    """(training images, test images, source) of --data; for `stacked-digits` the training
    images are an unbounded stream (common/stacked_digits.py)."""
    from common import data, stacked_digits

    if args.data == stacked_digits.NAME:
        return stacked_digits.Stream(resolution), stacked_digits.test_images(resolution), stacked_digits.NAME
    images, source = load_data(args, resolution, default_data)
    return (*data.split(images), source)


def train(cfg, build_model, args, out, default_data):
    """Load the data, build the model with the run's seed, and train it under `out`."""
    import keras

    from common import engine

    processes = engine.join_launched_processes()  # before anything runs on a device
    if not args.no_program_cache:  # before the first program (building the networks compiles some)
        kept = engine.keep_compiled_programs(os.path.join(args.cache_dir, "programs"))
        if kept:
            print(f"compiled programs kept in {kept} (--no-program-cache: compile afresh)")
    train_images, test_images, source = load_split(args, cfg.resolution, default_data)
    keras.utils.set_random_seed(args.seed)
    model = build_model(cfg)
    devices = model.use_devices(args.devices)
    across = f" in {processes} processes" if processes > 1 else ""
    print(f"{source}: {len(train_images)} training and {len(test_images)} test images at "
          f"{cfg.resolution}x{cfg.resolution}; {type(model).__name__} on {keras.backend.backend()} "
          f"({devices} device{'s' if devices > 1 else ''}{across}, {cfg.precision}), "
          f"{cfg.steps} steps of batch {cfg.batch_size} -> {out}")
    fit(model, train_images, test_images, out, source=source, seed=args.seed, preset=args.preset,
        center_crop=args.center_crop, resume=args.resume, checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every, keep=args.keep, skip_nonfinite=args.skip_nonfinite,
        cpu_compile=args.cpu_compile, cache_dir=args.cache_dir)
    print(f"done: {out}")


def fit(model, train_images, test_images, out, source, seed, preset, center_crop=False, resume=False,
        checkpoint_every=1000, sample_every=1000, keep=3, verbose=1, skip_nonfinite=False,
        cpu_compile="auto", cache_dir=None, rounds_per_call=1):
    """Train a built model (seeded by the caller) on its config's schedule, writing under `out`."""
    import zlib

    import numpy as np

    from common import data, engine, loop, stacked_digits

    cfg = model.cfg
    if isinstance(train_images, stacked_digits.Stream):  # the same embedded digits on every process
        sampler = train_images.sampler(cfg.batch_size, model.images_per_round, model.latents_per_round,
                                       model.latent_dim, seed)
    else:
        if engine.process_count() > 1:  # each process draws the global batch from its own copy
            engine.check_same_on_every_process(
                np.array([len(train_images), *divmod(zlib.crc32(np.ascontiguousarray(train_images)), 1 << 16)],
                         np.int32),
                "the processes loaded different training images: give every process the same --data")
        sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                    model.latents_per_round, model.latent_dim, seed, cfg.mirror)
    meta = run_meta(model, seed, source, preset, center_crop)
    return loop.train(model, sampler, test_images, out, meta, cfg.steps, resume=resume,
                      checkpoint_every=checkpoint_every, sample_every=sample_every, keep=keep,
                      verbose=verbose, skip_nonfinite=skip_nonfinite, cpu_compile_mode=cpu_compile,
                      cache_dir=cache_dir, rounds_per_call=rounds_per_call)


def run_meta(model, seed, source, preset, center_crop=False):
    """What a run's checkpoints record about it."""
    import dataclasses

    import keras

    return {"model": type(model).__name__, "config": dataclasses.asdict(model.cfg), "seed": seed,
            "data": source, "center_crop": bool(center_crop), "backend": keras.backend.backend(), "preset": preset}


def fit_batched(models, seeds, train_images, test_images, outs, source, preset, checkpoint_every=1000,
                sample_every=1000, keep=3, rounds_per_call=100):
    """Train one model's runs, one per seed (each model built under its seed), as one program
    (common/batched_runs.py), each writing under its own folder in `outs`; resumed where they have
    checkpoints. Returns their states."""
    from common import batched_runs, data

    runs = []
    for model, seed, out in zip(models, seeds, outs):
        cfg = model.cfg
        sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                    model.latents_per_round, model.latent_dim, seed, cfg.mirror)
        runs.append(batched_runs.Run(sampler, test_images, out, run_meta(model, seed, source, preset),
                                     model.initial_state()))
    states, _ = batched_runs.train(models[0], runs, models[0].cfg.steps, resume=True,
                                   checkpoint_every=checkpoint_every, sample_every=sample_every, keep=keep,
                                   rounds_per_call=rounds_per_call)
    return states


def model_from_config(config):
    """Rebuild the model a checkpoint's saved config describes (AEGAN, GAN, AAE or O-GAN)."""
    import dataclasses

    from common import UserError

    if "correlation_weight" in config:
        from ogan.config import OGANConfig as Config
        from ogan.models import OGAN as build
    else:
        from aegan.config import AEGANConfig as Config
        from aegan.models import build_model as build
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise UserError(f"the checkpoint's config has keys this code does not know ({', '.join(unknown)}): "
                        "was it made by a newer version?")
    return build(Config(**config).validate())


def load_run(run_dir):
    """(model, state, meta) from a run folder's newest readable checkpoint."""
    from common import UserError, checkpoint

    ckpt_dir = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(run_dir):
        raise UserError(f"run folder does not exist: {run_dir}")
    latest = checkpoint.load_latest(ckpt_dir)
    if latest is None:
        raise UserError(f"no checkpoint in {ckpt_dir}: is {run_dir} a training run's folder?")
    path, meta, flat = latest
    model = model_from_config(meta["config"])
    if meta.get("weights_only"):  # experiments/export_weights.py: the sampling networks alone
        state = checkpoint.restore_weights(flat, model.initial_state(), meta["weights_only"])
    else:
        state = checkpoint.unflatten(flat, model.initial_state())
    return model, state, {**meta, "checkpoint": path}
