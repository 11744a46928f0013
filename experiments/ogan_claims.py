"""O-GAN's two claims decided from mode_collapse.py's reports, by the rules of docs/ogan.md.

    python experiments/ogan_claims.py stacked results/ogan-stacked-w0 0.5=results/ogan-stacked-w0.5 2=results/ogan-stacked-w2
    python experiments/ogan_claims.py faces results/ogan-faces-w0 0.5=results/ogan-faces-w0.5 2=results/ogan-faces-w2

The first folder is the control (lambda_2 = 0); each WEIGHT=FOLDER after it one setting. A
setting whose seeds ran into several --out folders (`--first-seed`) joins them with `+`:
`0.5=results/w0.5+results/w0.5-seeds1-4`. Every folder holds a mode_collapse.json; on stacked digits each collapsed run's folder
(FOLDER/ogan-seedS) also holds the generator_modes.json that generator_modes.py writes. Prints
one line per weight and writes nothing.
"""

import argparse
import json
import os

import _setup
from collapse.reports import spread

SEEDS = 5
# Sample figures of claim 1, and which way each is better.
SAMPLE_FIGURES = {"ndb_k": "lower", "jsd": "lower", "diversity": "higher", "near_duplicates": "lower"}


def read_runs(folders):
    """The O-GAN rows of each folder's mode_collapse.json (folders joined by `+`), one per seed,
    each with the folder it came from under "folder"."""
    from common import UserError

    rows = {}
    for folder in folders.split("+"):
        path = os.path.join(folder, "mode_collapse.json")
        try:
            with open(path) as f:
                mine = [r for r in json.load(f)["runs"] if r["model"] == "ogan"]
        except (OSError, ValueError, KeyError) as e:
            raise UserError(f"cannot read {path}: {e}") from None
        for r in mine:
            if r["seed"] in rows:
                raise UserError(f"seed {r['seed']} is in both {rows[r['seed']]['folder']} and {folder}")
            rows[r["seed"]] = {**r, "folder": folder}
    return [rows[s] for s in sorted(rows)]


def collapse_kind(modes):
    """What a collapsed stacked-digits run's collapse is, from its generator_modes.json record
    (None where it has none): docs/ogan.md's three readings, or 'no label'."""
    if modes is None:
        return "not read (run generator_modes.py on it)"
    inference, training, rho = modes["inference"]["modes"], modes["training"]["modes"], modes["logged_rho_last_500_steps"]
    if training >= 900 > inference:
        return "an evaluation artefact"
    if max(inference, training) < 900 and rho > 0.5:
        return "a gap in the paper's argument"
    if max(inference, training) < 900 and rho < 0.2:
        return "the term never took hold"
    return "no label"


def stacked_verdict(runs, control):
    """(verdict, why) for claim 2 at one weight: supported with at most 1 of 5 seeds collapsed and
    fewer than the control; contradicted with 3 or more; otherwise undecided."""
    collapsed, of = sum(r["collapsed"] for r in runs), len(runs)
    if collapsed >= 3:
        return "contradicted", f"{collapsed} of {of} seeds collapsed"
    if of < SEEDS or len(control) < SEEDS:
        return "undecided", f"{collapsed} of {of} seeds collapsed; the rule needs {SEEDS} seeds here and in the control"
    control_collapsed = sum(r["collapsed"] for r in control)
    why = f"{collapsed} of {of} seeds collapsed, the control {control_collapsed} of {len(control)}"
    if collapsed <= 1 and collapsed < control_collapsed:
        return "supported", why
    return "undecided", why


def faces_verdict(runs, control):
    """(verdict, why) for claim 1 at one weight: contradicted when a sample figure's mean is worse
    than the control's by more than two control sds; supported when none is and the held-out L1
    is below and SSIM above the control's mean by more than two control sds. Means and sds are
    mode_collapse.py's, as its reports print them."""
    if len(runs) < SEEDS or len(control) < SEEDS:
        return "undecided", f"{len(runs)} and {len(control)} (control) of {SEEDS} seeds"
    (mine,), (theirs,) = spread(runs).values(), spread(control).values()
    worse = []
    for key, better in SAMPLE_FIGURES.items():
        (value, _), (mean, sd) = mine[key], theirs[key]
        gap = (mean - value) if better == "higher" else (value - mean)
        if gap > 2 * sd:
            worse.append(f"{key} {value:.3g} against {mean:.3g} ± {sd:.2g}")
    if worse:
        return "contradicted", "samples worse than the control: " + "; ".join(worse)
    (l1, _), (l1_control, l1_sd) = mine["l1"], theirs["l1"]
    (ssim, _), (ssim_control, ssim_sd) = mine["ssim"], theirs["ssim"]
    encoder = l1 < l1_control - 2 * l1_sd and ssim > ssim_control + 2 * ssim_sd
    why = (f"samples within two control sds; held-out L1 {l1:.3f} against {l1_control:.3f} ± {l1_sd:.3f}, "
           f"SSIM {ssim:.3f} against {ssim_control:.3f} ± {ssim_sd:.3f}")
    return ("supported" if encoder else "undecided"), why


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("benchmark", choices=("stacked", "faces"), help="claim 2 (stacked digits) or claim 1 (faces)")
    p.add_argument("control", help="the lambda_2 = 0 comparison's --out folder")
    p.add_argument("weights", nargs="+", help="WEIGHT=FOLDER, one per setting")
    args = p.parse_args(argv)

    from common import UserError

    control = read_runs(args.control)
    for spec in args.weights:
        weight, sep, folder = spec.partition("=")
        if not sep or not folder:
            raise UserError(f"expected WEIGHT=FOLDER, not {spec!r}")
        runs = read_runs(folder)
        if args.benchmark == "stacked":
            verdict, why = stacked_verdict(runs, control)
            kinds = []
            for r in runs:
                if r["collapsed"]:
                    path = os.path.join(r["folder"], f"ogan-seed{r['seed']}", "generator_modes.json")
                    modes = None
                    if os.path.exists(path):
                        with open(path) as f:
                            modes = json.load(f)
                    kinds.append(f"seed {r['seed']}: {collapse_kind(modes)}")
            if kinds:
                why += " (" + "; ".join(kinds) + ")"
        else:
            verdict, why = faces_verdict(runs, control)
        print(f"lambda_2 = {weight}: {verdict}: {why}")


if __name__ == "__main__":
    _setup.run(main)
