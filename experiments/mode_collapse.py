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
digit classifier: modes (distinct triples), KL of their histogram from the uniform, and the
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
The collapse rule is in the README and in `verdict` below. On ring8 and grid25,
mode_collapse_samples.png shows each model's first seed: its samples over the data.
"""

import argparse
import json
import os

import _setup
import runs

from runs import registry

SAMPLES = 2500
# The 2-D protocols. "mlp", this project's own: dense networks of 3 x 128 units, latent 8 (O-GAN
# needs at least 3 for its correlation), batch 100, and each model's own learning rates,
# optimizers and labels from its paper preset. "pacgan": PacGAN's 2-D networks, optimizer and
# loss (the "pacgan" presets, aegan/config.py), under which its published figures were measured.
# Either way the losses and update order stay each model's own. Each is a preset of every model.
PROTOCOLS = ("mlp", "pacgan")


def build(name, preset, steps, points, protocol="mlp", corr_weight=None):
    """The config of one model at a preset, or under a 2-D protocol (its preset of that name);
    corr_weight, where given, is O-GAN's lambda_2 (eq. 11)."""
    entry = registry.get(name)
    weight = {"correlation_weight": corr_weight} if hasattr(entry.config_class, "correlation_weight") else {}
    return entry.make_config(protocol if points else preset, steps=steps, **weight)


def verdict(row, reference):
    """Collapsed: fewer than 90% of the modes covered (2-D, and the 1,000 of stacked digits among
    26,000 samples); for other images, samples whose mean
    pairwise distance is under 80% of held-out real images', or more than 10% near-duplicates
    (ten times the 1% that real images show by the threshold's construction)."""
    if "modes" in row:
        return row["modes"] < 0.9 * row["of"]
    return row["diversity"] < 0.8 * reference["diversity"] or row["near_duplicates"] > 0.10


# The AEGAN paper's claim on the 2-D mixtures, by the rule the README states before the runs:
# each run is read as the mean of its last five checkpoints, as the figures move by several
# points from one checkpoint to the next.
LATE_CHECKPOINTS = 5


def late_checkpoints(rows):
    """{(model, seed): that run's last LATE_CHECKPOINTS checkpoint rows, in step order}."""
    runs = {}
    for r in sorted(rows, key=lambda r: r["step"]):
        runs.setdefault((r["model"], r["seed"]), []).append(r)
    return {run: mine[-LATE_CHECKPOINTS:] for run, mine in runs.items()}


def paper_claim(points, gan, aegan):
    """("supported" | "contradicted" | "undecided", why) from the GAN's and AEGAN's late checkpoint
    rows on ring8 or grid25: one seed's, or every seed's pooled. Supported: AEGAN covers more modes
    (ring8: all 8 in at least four fifths of its checkpoints, and more on average than the GAN;
    grid25: at least 2 more on average) with at least half the GAN's high-quality share.
    Contradicted: fewer modes, or as many with under half the share. Otherwise undecided: more
    modes with few sharp samples is blur, not the absence of collapse."""
    import numpy as np

    modes = [float(np.mean([r["modes"] for r in rows])) for rows in (gan, aegan)]
    sharp = [float(np.mean([r["high_quality"] for r in rows])) for rows in (gan, aegan)]
    why = f"modes {modes[1]:.1f} against the GAN's {modes[0]:.1f}, high quality {sharp[1]:.1%} against {sharp[0]:.1%}"
    if points == "ring8":
        full = float(np.mean([r["modes"] == r["of"] for r in aegan]))
        more = modes[1] > modes[0] and full >= 0.8
        why += f", all 8 in {full:.0%} of AEGAN's checkpoints"
    else:
        more = modes[1] >= modes[0] + 2
    half = sharp[1] >= 0.5 * sharp[0]
    if more and half:
        return "supported", why
    if modes[1] < modes[0] or (modes[1] == modes[0] and not half):
        return "contradicted", why
    return "undecided", why


class StackedReference:
    """What stacked-digit samples are read with: the digit classifier, and real stacked digits'
    own figures through it."""

    def __init__(self, resolution, cache_dir):
        from common import stacked_digits

        self.classifier = stacked_digits.Classifier(resolution, cache_dir)
        images, _ = stacked_digits.real_samples(resolution)
        self.real = self.sample_metrics(images)[0]

    def sample_metrics(self, samples):
        """(figures, the digits read in each sample's channels)."""
        from common import stacked_digits

        digits, confidence = self.classifier.read(samples)
        return stacked_digits.mode_figures(digits, confidence), digits


def evaluate_run(model, state, run_dir, points, test, reference, seed, name="samples.npy"):
    import numpy as np

    from common import evaluation, metrics, mixtures, stacked_digits
    from common.inference import Inference

    inference = Inference(model)
    if points:
        samples = inference.generate(state, evaluation.latents(SAMPLES, model.latent_dim, seed))
        np.save(os.path.join(run_dir, name), samples)
        return mixtures.coverage(points, samples)
    stacked = isinstance(reference, StackedReference)
    samples, _ = evaluation.draw_samples(inference, state, stacked_digits.SAMPLES if stacked else SAMPLES,
                                         model.latent_dim, seed)
    np.save(os.path.join(run_dir, name), samples[:SAMPLES])
    if stacked:
        row, digits = reference.sample_metrics(samples)
        row["of"] = stacked_digits.MODES
        np.save(os.path.join(run_dir, name.replace("samples", "digits")), digits.astype(np.uint8))
    else:
        row = reference.sample_metrics(samples)
    if inference.can_encode:
        reconstructions, _ = inference.reconstruct(state, test[:SAMPLES])
        row.update(metrics.reconstruction_metrics(test[:SAMPLES], reconstructions))
    return row


def run_row(name, seed, step, model, state, run_dir, points, test, reference, ref_figures, samples="samples.npy"):
    """A run's figures at one step, with where it logs rho (O-GAN) the logged rho of the 500 steps
    before, and whether it collapsed."""
    from common import loop

    row = {"model": name, "seed": seed, "step": step,
           **evaluate_run(model, state, run_dir, points, test, reference, seed, name=samples)}
    rho = loop.logged_mean(run_dir, "rho", end_step=step)
    if rho is not None:  # rho(z, E(G(z))) of O-GAN's eq. 7, as training logged it
        row["logged_rho"] = rho
    row["collapsed"] = bool(verdict(row, ref_figures))
    return row


def measure_checkpoints(name, seed, model, run_dir, points, test, reference, ref_figures):
    """A row for every checkpoint kept in run_dir (the last one included)."""
    from tqdm.auto import tqdm

    from common import checkpoint

    rows = []
    for path in checkpoint.list_checkpoints(os.path.join(run_dir, "checkpoints")):
        meta, flat = checkpoint.read(path)
        state = checkpoint.unflatten(flat, model.initial_state())
        row = run_row(name, seed, meta["step"], model, state, run_dir, points, test, reference, ref_figures,
                      samples=f"samples-{meta['step']}.npy")
        rows.append(row)
        tqdm.write(json.dumps(row))
    return rows


def write_curve(out, rows, reference, title, points=None):
    """The figures against training steps, one line per model and seed; each run's means over its
    last checkpoints, and on ring8 and grid25 the paper's claim by the README's rule."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from common.files import write_atomic

    keys = list(dict.fromkeys(k for r in rows for k in figure_keys(r)))
    lines = [f"# {title}: figures against steps", "", "| run | step | " + " | ".join(keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    lines += [f"| {r['model']} seed {r['seed']} | {r['step']} | {cells(r, keys)} |" for r in rows]
    late = late_checkpoints(rows)
    late_means = [{"model": m, "seed": s, "steps": [mine[0]["step"], mine[-1]["step"]],
                   **{k: float(np.mean([r[k] for r in mine])) for k in keys if all(k in r for r in mine)}}
                  for (m, s), mine in late.items()]
    lines += ["", f"Each run's means over its last {LATE_CHECKPOINTS} checkpoints, and each model's mean "
              "± standard deviation of those over its seeds:", "",
              "| run | steps | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    lines += [f"| {r['model']} seed {r['seed']} | {r['steps'][0]}-{r['steps'][1]} | {cells(r, keys)} |"
              for r in late_means]
    for name, figures in spread(late_means).items():
        runs = sum(r["model"] == name for r in late_means)
        lines.append(f"| **{name}, {runs} seed{'s' if runs > 1 else ''}** | | {cells(figures, keys)} |")
    claim = {}
    if points:
        pairs = [s for (m, s), mine in late.items() if m == "gan" and len(mine) == LATE_CHECKPOINTS
                 and len(late.get(("aegan", s), [])) == LATE_CHECKPOINTS]
        for s in pairs:
            claim[f"seed {s}"] = paper_claim(points, late[("gan", s)], late[("aegan", s)])
        if len(pairs) > 1:
            claim[f"{len(pairs)} seeds pooled"] = paper_claim(points, [r for s in pairs for r in late[("gan", s)]],
                                                              [r for s in pairs for r in late[("aegan", s)]])
        if claim:
            lines += ["", f"The AEGAN paper's claim against the GAN by the README's rule (last {LATE_CHECKPOINTS} "
                      "checkpoints of each run):", ""]
            lines += [f"- {who}: **{outcome}**: {why}" for who, (outcome, why) in claim.items()]
    write_atomic(os.path.join(out, "mode_collapse_curve.json"),
                 lambda f: f.write(json.dumps({"title": title, "rows": rows, "real": reference, "late": late_means,
                                               "claim": claim}, indent=2).encode()))
    write_atomic(os.path.join(out, "mode_collapse_curve.md"), lambda f: f.write(("\n".join(lines) + "\n").encode()))
    shown = keys[:3]
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.2), dpi=100, squeeze=False)
    for ax, k in zip(axes[0], shown):
        for run in dict.fromkeys((r["model"], r["seed"]) for r in rows):
            mine = [r for r in rows if (r["model"], r["seed"]) == run and k in r]
            ax.plot([r["step"] for r in mine], [r[k] for r in mine], marker=".", label=f"{run[0]} seed {run[1]}")
        if k in (reference or {}):
            ax.axhline(reference[k], color="k", linestyle=":", label="real")
        ax.set_xlabel("step")
        ax.set_title(k, fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    write_atomic(os.path.join(out, "mode_collapse_curve.png"), lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def write_fig3_panel(out, seeds):
    """AEGAN Fig. 3 for every seed: GAN seed s (left) and AEGAN seed s (right) on the same 100 z."""
    import numpy as np
    from figures import Figures, beside, caption

    from common.data import to_uint8
    from common.images import save_png

    panels = []
    for seed in seeds:
        gan, aegan = (Figures(os.path.join(out, f"{m}-seed{seed}"), out) for m in ("gan", "aegan"))
        z = gan.z[:100]  # both runs of a seed drew the same fixed z
        panels.append(caption(beside(*(to_uint8(f.inference.generate(f.state, z)) for f in (gan, aegan))),
                              f"seed {seed}: GAN at step {gan.meta['step']} (left), AEGAN at step "
                              f"{aegan.meta['step']} (right), the same 100 z"))
    width = max(p.shape[1] for p in panels)
    panels = [np.pad(p, ((0, 6), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in panels]
    path = os.path.join(out, "fig3_seeds.png")
    save_png(path, np.concatenate(panels, axis=0))
    print(path)


def write_samples_panel(out, rows, data, title):
    """2-D: each model's first seed, its scored samples (red) over the data (grey), one panel each."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from common.files import write_atomic

    first = {}
    for r in rows:
        first.setdefault(r["model"], r)
    # The data's extent and a fifth more on each side: samples far off the data are not shown.
    margin = 0.2 * (data.max(axis=0) - data.min(axis=0))
    low, high = data.min(axis=0) - margin, data.max(axis=0) + margin
    fig, axes = plt.subplots(1, len(first), figsize=(3 * len(first), 3.8), dpi=100, squeeze=False)
    for ax, (name, r) in zip(axes[0], first.items()):
        samples = np.load(os.path.join(out, f"{name}-seed{r['seed']}", "samples.npy"))
        ax.scatter(data[:, 0], data[:, 1], s=2, c="0.6")
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:red")
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"{name} seed {r['seed']}, step {r['step']}\n{r['modes']} of {r['of']} modes, "
                     f"{r['high_quality']:.1%} high quality", fontsize=8)
    fig.suptitle(f"{title}\n{len(samples)} samples (red) over as many data points (grey)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    write_atomic(os.path.join(out, "mode_collapse_samples.png"), lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def figure_keys(row):
    """The measured figures of a row: its numbers, less the run's seed, step and mode count."""
    return [k for k, v in row.items()
            if isinstance(v, float | int) and not isinstance(v, bool) and k not in ("seed", "step", "of")]


def spread(rows):
    """{model: {figure: [mean, standard deviation] over the model's rows}}, for the figures every
    one of the model's rows has (a figure some rows lack, such as a logged rho older reports did
    not carry, has no mean over the seeds)."""
    import numpy as np

    figures = {}
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        keys = [k for k in dict.fromkeys(k for r in mine for k in figure_keys(r)) if all(k in r for r in mine)]
        figures[name] = {k: [float(np.mean([r[k] for r in mine])), float(np.std([r[k] for r in mine]))]
                         for k in keys}
    return figures


def summarise(rows):
    return {name: {"runs": sum(r["model"] == name for r in rows),
                   "collapsed": sum(r["collapsed"] for r in rows if r["model"] == name), **figures}
            for name, figures in spread(rows).items()}


def number(value, digits=3):
    """A figure for a table: `digits` significant digits, or, where it has that many digits before
    the point, a whole number with thousands separators (1,000 modes, not 1e+03)."""
    return f"{value:,.0f}" if abs(value) >= 10 ** digits - 0.5 else f"{value:.{digits}g}"


def cells(row, keys):
    """A table row's figures: a number, or mean ± standard deviation; "-" where the row has none."""
    return " | ".join("-" if k not in row else f"{number(row[k][0])} ± {number(row[k][1], 2)}"
                      if isinstance(row[k], list) else number(row[k]) for k in keys)


def write_report(out, rows, summary, reference, title):
    from common.files import write_atomic

    report = {"title": title, "runs": rows, "summary": summary, "real_held_out": reference}
    write_atomic(os.path.join(out, "mode_collapse.json"), lambda f: f.write(json.dumps(report, indent=2).encode()))
    # Every model's figures (only models with an encoder have reconstruction figures), in order.
    keys = list(dict.fromkeys(k for m in summary.values() for k in m if k not in ("runs", "collapsed")))
    lines = [f"# {title}", "", "| model | collapsed | " + " | ".join(keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['collapsed']} of {s['runs']} | {cells(s, keys)} |")
    if reference:
        lines += ["", "Held-out real images against the training split: "
                  + ", ".join(f"{k} {number(v)}" for k, v in reference.items())]
    lines += ["", "| run | collapsed | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for r in rows:
        lines.append(f"| {r['model']} seed {r['seed']} | {'yes' if r['collapsed'] else 'no'} | {cells(r, keys)} |")
    write_atomic(os.path.join(out, "mode_collapse.md"), lambda f: f.write(("\n".join(lines) + "\n").encode()))
    _plot(out, rows, keys, title)


def _plot(out, rows, keys, title):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from common.files import write_atomic

    shown = keys[:3]
    names = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.2), dpi=100, squeeze=False)
    for ax, k in zip(axes[0], shown):
        for i, name in enumerate(names):
            mine = [r for r in rows if r["model"] == name and k in r]
            values = [r[k] for r in mine]
            colours = ["tab:red" if r["collapsed"] else "tab:blue" for r in mine]
            ax.scatter([i] * len(values), values, c=colours, s=18)
        ax.set_xticks(range(len(names)), names)
        ax.set_title(k, fontsize=9)
    fig.suptitle(f"{title} (red: collapsed)", fontsize=10)
    fig.tight_layout()
    write_atomic(os.path.join(out, "mode_collapse.png"), lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def checkpoint_schedule(cfg, curve_every):
    """(steps between checkpoints, checkpoints kept): with a curve, every one of them."""
    every = curve_every or max(cfg.steps // 4, 1)
    return every, cfg.steps // every + 2 if curve_every else 3


def train_batched(names, seeds, configs, args, train, test, source):
    """The 2-D runs not yet finished, --seeds-per-program seeds of a model at a time, each group as
    one program (common/batched_runs.py); main then measures them as runs trained alone."""
    import keras

    from common import checkpoint

    for name in names:
        cfg = configs[name]
        dirs = {seed: os.path.join(args.out, f"{name}-seed{seed}") for seed in seeds}
        todo = []
        for seed in seeds:
            latest = checkpoint.load_latest(os.path.join(dirs[seed], "checkpoints"))
            if not (latest and latest[1]["step"] >= cfg.steps):
                todo.append(seed)
        for i in range(0, len(todo), args.seeds_per_program):
            group = todo[i:i + args.seeds_per_program]
            print(f"training {name}, seeds {', '.join(map(str, group))} as one program, {cfg.steps} steps")
            models = []
            for seed in group:
                keras.utils.set_random_seed(seed)
                models.append(registry.build(cfg))
            every, keep = checkpoint_schedule(cfg, args.curve_every)
            runs.fit_batched(models, group, train, test, [dirs[s] for s in group], source, "2d",
                               checkpoint_every=every, sample_every=cfg.steps, keep=keep,
                               rounds_per_call=args.rounds_per_call)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="ring8, grid25, stacked-digits, or a folder or zip of images")
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
    p.add_argument("--protocol", default="mlp", choices=PROTOCOLS,
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
    args = p.parse_args(argv)

    from common import UserError, checkpoint, mixtures, stacked_digits

    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in registry.names()]
    if unknown or not names:
        raise UserError(f"--models takes a comma-separated list of {', '.join(registry.names())}, "
                        f"not {args.models!r}")
    if args.seeds < 1:
        raise UserError(f"--seeds must be at least 1, not {args.seeds}")
    if args.first_seed < 0:
        raise UserError(f"--first-seed must be at least 0, not {args.first_seed}")
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    seed_words = f"{args.seeds} seeds" if args.first_seed == 0 else f"seeds {seeds[0]}-{seeds[-1]}"
    if args.rounds_per_call < 1:
        raise UserError(f"--rounds-per-call must be at least 1, not {args.rounds_per_call}")
    if args.seeds_per_program < 1:
        raise UserError(f"--seeds-per-program must be at least 1, not {args.seeds_per_program}")
    if args.curve_every is not None and args.curve_every < 1:
        raise UserError(f"--curve-every must be at least 1, not {args.curve_every}")
    points = args.data if args.data in mixtures.MIXTURES else None
    if args.seeds_per_program > 1:
        from common import engine

        if not points:
            raise UserError("--seeds-per-program is for the 2-D mixtures (ring8, grid25)")
        if engine.BACKEND != "jax":
            raise UserError("--seeds-per-program needs KERAS_BACKEND=jax (the seeds are mapped with jax.vmap)")
    if args.corr_weight is not None and "ogan" not in names:
        raise UserError("--corr-weight is O-GAN's: give --models ogan")
    configs = {m: build(m, args.preset, args.steps, points, args.protocol, args.corr_weight) for m in names}
    if points:
        if args.steps is None:
            raise UserError("give --steps for the 2-D benchmark")
        train, test, source = mixtures.sample(points, 50_000, seed=0), mixtures.sample(points, SAMPLES, seed=1), points
        reference, ref_figures = None, {}
        title = f"{points}: {len(names)} models x {seed_words}, {args.steps} steps, protocol {args.protocol}"
    else:
        from common import evaluation

        resolutions = {cfg.resolution for cfg in configs.values()}
        if len(resolutions) != 1:
            raise UserError(f"the models' presets differ in resolution ({sorted(resolutions)}): "
                            "give --preset with one resolution for all")
        resolution = resolutions.pop()
        train, test, source = runs.load_split(args.data, resolution, center_crop=args.center_crop,
                                              cache_dir=args.cache_dir)
        if source == stacked_digits.NAME:
            reference = StackedReference(resolution, args.cache_dir)
            print(f"digit classifier: {reference.classifier.accuracy:.1%} of the held-out digits read "
                  f"back correctly after the round trip to {resolution}x{resolution}")
            ref_figures = {**reference.real, "classifier_accuracy": reference.classifier.accuracy}
        else:
            print(f"K-means bins ({args.bins}) of {len(train)} training images ...")
            reference = evaluation.Reference(train, test, k=args.bins)
            ref_figures = reference.real
        title = f"{os.path.basename(str(source))}: {len(names)} models x {seed_words}, preset {args.preset}"
    os.makedirs(args.out, exist_ok=True)

    import keras

    from tqdm.auto import tqdm

    if args.seeds_per_program > 1:
        train_batched(names, seeds, configs, args, train, test, source)
    rows, curve = [], []
    progress = tqdm([(name, seed) for name in names for seed in seeds], desc="runs", unit="run")
    for name, seed in progress:
        progress.set_postfix_str(f"{name} seed {seed}")
        cfg = configs[name]
        run_dir = os.path.join(args.out, f"{name}-seed{seed}")
        keras.utils.set_random_seed(seed)
        model = registry.build(cfg)
        latest = checkpoint.load_latest(os.path.join(run_dir, "checkpoints"))
        step = cfg.steps
        if latest and latest[1]["step"] >= cfg.steps:
            step = latest[1]["step"]  # a run trained further earlier is measured where it stopped
            state = checkpoint.unflatten(latest[2], model.initial_state())
            tqdm.write(f"{run_dir}: finished at step {step}, evaluating")
        else:
            tqdm.write(f"{run_dir}: training {name}, seed {seed}, {cfg.steps} steps")
            every, keep = checkpoint_schedule(cfg, args.curve_every)
            state, _ = runs.fit(model, train, test, run_dir, source=source, seed=seed,
                                  preset="2d" if points else args.preset, resume=latest is not None,
                                  checkpoint_every=every, sample_every=cfg.steps, keep=keep,
                                  cache_dir=args.cache_dir, rounds_per_call=args.rounds_per_call if points else 1)
        if args.curve_every:
            curve += measure_checkpoints(name, seed, model, run_dir, points, test, reference, ref_figures)
        row = run_row(name, seed, step, model, state, run_dir, points, test, reference, ref_figures)
        rows.append(row)
        tqdm.write(json.dumps(row))
    summary = summarise(rows)
    write_report(args.out, rows, summary, ref_figures, title)
    if curve:
        write_curve(args.out, curve, ref_figures, title, points)
    if points:
        write_samples_panel(args.out, rows, test, title)
    if not points and {"gan", "aegan"} <= set(names):
        write_fig3_panel(args.out, seeds)
    print(open(os.path.join(args.out, "mode_collapse.md")).read())


if __name__ == "__main__":
    _setup.run(main)
