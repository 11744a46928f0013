"""What the scripts under experiments/ share: the repository made importable when a script is run
as `python experiments/NAME.py`, a script's main run so that a user's mistake is one line, not a
traceback, and the training scripts' common flags and their training call (the run layer itself
is the `runs` package)."""

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


def add_data_flag(p, default):
    """--data, whose default is the first of the script's DEFAULT_DATA present."""
    p.add_argument("--data", help=f"folder or .zip of images (default: {default} if present, else "
                                  "scikit-learn's digits), or stacked-digits (three digits as R, G, B: "
                                  "1,000 countable modes)")


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
    p.add_argument("--round-program", default="auto", choices=("auto", "unrolled", "looped", "per-update"),
                   help="a long run's round: one program with every update unrolled, one with each repeated "
                        "update one loop body (smaller, faster to compile, slower on a CPU), or one program "
                        "per kind of update (small programs: quick to compile and to load at a restart); auto "
                        "(default): looped on a GPU or TPU; on a CPU per-update under JAX for rounds of 1 "
                        "TFLOP or more, else unrolled; as a resumed run chose")
    p.add_argument("--devices", type=int, help="devices to train on, the batch split over them "
                                               "(default: all, or as many as divide the batch size)")
    p.add_argument("--cache-dir", default=os.path.join(ROOT, "results", "cache"))
    p.add_argument("--no-program-cache", action="store_true",
                   help="compile every program afresh instead of keeping compiled programs under "
                        "--cache-dir/programs for the next start (a --resume loads them; under "
                        "TensorFlow, what XLA compiles)")
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


def train(cfg, args, out, default_data):
    """Load the data, build the model the config names with the run's seed, and train it under `out`."""
    import keras

    from common import engine
    from runs import registry, training

    processes = engine.join_launched_processes()  # before anything runs on a device
    if not args.no_program_cache:  # before the first program (building the networks compiles some)
        kept = engine.keep_compiled_programs(os.path.join(args.cache_dir, "programs"))
        if kept:
            print(f"compiled programs kept in {kept} (--no-program-cache: compile afresh)")
    train_images, test_images, source = training.load_split(args.data, cfg.resolution, default_data,
                                                            args.center_crop, args.cache_dir)
    engine.set_random_seed(args.seed)
    model = registry.build(cfg)
    devices = model.use_devices(args.devices)
    across = f" in {processes} processes" if processes > 1 else ""
    print(f"{source}: {len(train_images)} training and {len(test_images)} test images at "
          f"{cfg.resolution}x{cfg.resolution}; {type(model).__name__} on {keras.backend.backend()} "
          f"({devices} device{'s' if devices > 1 else ''}{across}, {cfg.precision}), "
          f"{cfg.steps} steps of batch {cfg.batch_size} -> {out}")
    training.fit(model, train_images, test_images, out, source=source, seed=args.seed, preset=args.preset,
                 center_crop=args.center_crop, resume=args.resume, checkpoint_every=args.checkpoint_every,
                 sample_every=args.sample_every, keep=args.keep, skip_nonfinite=args.skip_nonfinite,
                 cpu_compile=args.cpu_compile, cache_dir=args.cache_dir, round_program=args.round_program)
    print(f"done: {out}")
