"""Train every model with every seed, measure each run, and say which collapsed.

    python experiments/mode_collapse.py --data grid25 --seeds 5 --steps 8000 --out results/mc-grid25
    python experiments/mode_collapse.py --data ring8 --seeds 5 --steps 8000 --out results/mc-ring8
    python experiments/mode_collapse.py --data ring8 --protocol pacgan --models gan --seeds 1 --steps 100000 --curve-every 10000 --out results/pacgan-ring8
    python experiments/mode_collapse.py --data faces.zip --preset small --seeds 5 --out results/mc-faces
    python experiments/mode_collapse.py --data stacked-digits --seeds 5 --steps 4000 --out results/mc-stacked
    python experiments/mode_collapse.py --data stacked-digits --seeds 1 --steps 8000 --curve-every 500 --out results/mc-stacked-curve

`--data ring8` / `grid25`: PacGAN's 2-D Gaussian mixtures, learned with each model's own
losses, update order and training loop, under one of two protocols: `--protocol mlp` (the
default), this project's small dense networks with each model's own optimizers, or
`--protocol pacgan`, PacGAN's networks, optimizer and loss, under which its published
figures were measured. 2,500 samples per run: modes covered (at least one sample within 3
standard deviations of a mode's mean) and the share of such high-quality samples; each
run's samples are saved as samples.npy beside it. `--rounds-per-call` (default 100) runs
that many rounds as one compiled program; under JAX, `--seeds-per-program N` trains N seeds of
a model in that program (jax.vmap), each to its own run folder, for a GPU. `--models
gan-simultaneous` adds a diagnostic: the GAN updated as PacGAN's code updates it (D and G
from the same weights at every step).
`--data stacked-digits`: three embedded digits stacked as R, G and B, 1,000 modes (the
Stacked-MNIST protocol, common/stacked_digits.py); 26,000 samples per run read back by a
digit classifier (collapse/digit_reader.py): modes (distinct triples), KL of their histogram from the uniform, and the
share read confidently. Real stacked digits through the same code are the yardstick.
A folder or zip of images: each model at the chosen preset; NDB/K and JSD (K-means bins of
the training split), diversity and near-duplicates of 2,500 samples, and reconstruction
L1/PSNR/SSIM/sharpness on the held-out split for models with an encoder (stacked digits too).

On images, with both the GAN and AEGAN among the models, fig3_seeds.png is the AEGAN paper's
Fig. 3 for every seed: the two generators' samples from the same 100 z, side by side.

`--curve-every N` keeps a checkpoint every N steps and measures each: how the figures move
with training (mode_collapse_curve.json, .md and .png), to choose a schedule by.

Runs live in --out/MODEL-seedS and are resumed or skipped when already finished, so the
command can be stopped and run again. --first-seed splits the seeds between processes (two
cores, two machines) writing to one --out; the command with every seed then measures them all.
Writes mode_collapse.json, .md and .png under --out.
The collapse rule is `collapse.rules.verdict`; the library behind this command is the `collapse`
package. On ring8 and grid25,
mode_collapse_samples.png shows each model's first seed: its samples over the data.
"""

import argparse
import json
import os

import _setup

from collapse import datasets, measure, protocols, reports
from runs import registry


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help=f"{', '.join(datasets.DATASETS)}, or a folder or zip of images")
    p.add_argument("--models", default=",".join(registry.names(in_benchmark=True)),
                   help=f"comma-separated, of {', '.join(registry.names())} "
                        f"(default: {', '.join(registry.names(in_benchmark=True))})")
    p.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    p.add_argument("--first-seed", type=int, default=0,
                   help="the first of the seeds (default 0): runs of other seeds can go to the same --out "
                        "from another process, and a later run with them all only measures them")
    p.add_argument("--steps", type=int, help="steps per run (default: the preset's)")
    p.add_argument("--preset", default="small", help="each model's preset for images (default small)")
    p.add_argument("--bins", type=int, default=100, help="K of NDB (default 100)")
    p.add_argument("--center-crop", action="store_true")
    p.add_argument("--curve-every", type=int, help="keep a checkpoint every N steps and measure each")
    p.add_argument("--protocol", default="mlp", choices=protocols.PROTOCOLS,
                   help="2-D only: this project's small networks (mlp, default) or PacGAN's setting (pacgan)")
    p.add_argument("--rounds-per-call", type=int, default=100,
                   help="2-D only: rounds run as one compiled program (default 100; 1: one per call)")
    p.add_argument("--seeds-per-program", type=int, default=1,
                   help="2-D only, JAX: train up to this many seeds of a model as one program (default 1), "
                        "each to its own run folder; for a GPU, which one 2-D run leaves almost idle")
    p.add_argument("--corr-weight", type=float,
                   help="O-GAN's lambda_2 of eq. 11 (default: its preset's; 0 trains it as a plain GAN)")
    p.add_argument("--cache-dir", default=os.path.join(_setup.ROOT, "results", "cache"))
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def checked(args):
    """(model names, seeds, the 2-D mixture's name or None) of valid flags; a UserError otherwise."""
    from common import UserError

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in registry.names()]
    if unknown or not names:
        raise UserError(f"--models takes a comma-separated list of {', '.join(registry.names())}, "
                        f"not {args.models!r}")
    for flag, least in (("seeds", 1), ("first_seed", 0), ("rounds_per_call", 1), ("seeds_per_program", 1),
                        ("curve_every", 1)):
        value = getattr(args, flag)
        if value is not None and value < least:
            raise UserError(f"--{flag.replace('_', '-')} must be at least {least}, not {value}")
    points = args.data if datasets.is_points(args.data) else None
    if args.seeds_per_program > 1:
        from common import engine

        if not points:
            raise UserError("--seeds-per-program is for the 2-D mixtures (ring8, grid25)")
        if engine.BACKEND != "jax":
            raise UserError("--seeds-per-program needs KERAS_BACKEND=jax (the seeds are mapped with jax.vmap)")
    if args.corr_weight is not None and "ogan" not in names:
        raise UserError("--corr-weight is O-GAN's: give --models ogan")
    if points and args.steps is None:
        raise UserError("give --steps for the 2-D benchmark")
    return names, range(args.first_seed, args.first_seed + args.seeds), points


def main(argv=None):
    from common import UserError

    args = parse_args(argv)
    names, seeds, points = checked(args)
    seed_words = f"{args.seeds} seeds" if args.first_seed == 0 else f"seeds {seeds[0]}-{seeds[-1]}"
    configs = {m: protocols.build(m, args.preset, args.steps, points, args.protocol, args.corr_weight) for m in names}
    resolution = None
    if not points:
        resolutions = {cfg.resolution for cfg in configs.values()}
        if len(resolutions) != 1:
            raise UserError(f"the models' presets differ in resolution ({sorted(resolutions)}): "
                            "give --preset with one resolution for all")
        resolution = resolutions.pop()
    bench = datasets.load(args.data, resolution, args.center_crop, args.cache_dir, args.bins)
    title = datasets.title(bench, names, seed_words, args.steps, args.preset, args.protocol)
    os.makedirs(args.out, exist_ok=True)

    from tqdm.auto import tqdm

    if args.seeds_per_program > 1:
        protocols.train_batched(names, seeds, configs, args.out, bench, args.seeds_per_program, args.curve_every,
                                args.rounds_per_call)
    rows, curve = [], []
    progress = tqdm([(name, seed) for name in names for seed in seeds], desc="runs", unit="run")
    for name, seed in progress:
        progress.set_postfix_str(f"{name} seed {seed}")
        model, state, step = protocols.train_run(name, seed, configs[name], args.out, bench, args.preset,
                                                 args.curve_every, args.rounds_per_call, args.cache_dir)
        run_dir = protocols.run_path(args.out, name, seed)
        if args.curve_every:
            curve += measure.measure_checkpoints(name, seed, model, run_dir, bench)
        row = measure.run_row(name, seed, step, model, state, run_dir, bench)
        rows.append(row)
        tqdm.write(json.dumps(row))
    reports.write_report(args.out, rows, reports.summarise(rows), bench.real, title)
    if curve:
        reports.write_curve(args.out, curve, bench.real, title, points)
    if points:
        reports.write_samples_panel(args.out, rows, bench.test, title)
    if not points and {"gan", "aegan"} <= set(names):
        reports.write_fig3_panel(args.out, seeds)
    print(open(os.path.join(args.out, "mode_collapse.md")).read())


if __name__ == "__main__":
    _setup.run(main)
