"""The benchmarks' reports: tables (mode_collapse.md), their summary (mode_collapse.json), the
figures against steps (mode_collapse_curve.*), and the panels of samples."""

import json
import os

from collapse.rules import LATE_CHECKPOINTS, late_checkpoints, paper_claim


def write_curve(out, rows, reference, title, points=None):
    """The figures against training steps, one line per model and seed; each run's means over its
    last checkpoints, and on ring8 and grid25 the paper's claim by collapse.rules.paper_claim."""
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
            lines += ["", f"The AEGAN paper's claim against the GAN by the rule of docs/pacgan-protocol.md (last {LATE_CHECKPOINTS} "
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

    import runs
    from common.data import to_uint8
    from common.images import beside, caption, save_png
    from common.inference import Inference

    panels = []
    for seed in seeds:
        gan, aegan = (runs.load_run(os.path.join(out, f"{m}-seed{seed}")) for m in ("gan", "aegan"))
        with np.load(os.path.join(out, f"gan-seed{seed}", "fixed.npz")) as f:
            z = f["z"][:100]  # both runs of a seed drew the same fixed z
        samples = [to_uint8(Inference(model).generate(state, z)) for model, state, _ in (gan, aegan)]
        panels.append(caption(beside(*samples), f"seed {seed}: GAN at step {gan[2]['step']} (left), AEGAN at step "
                                                f"{aegan[2]['step']} (right), the same 100 z"))
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
