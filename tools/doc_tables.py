"""The docs' tables of measured runs, rendered from the summaries shipped under docs/runs/.

    python tools/doc_tables.py            # rewrite every rendered table in docs/*.md
    python tools/doc_tables.py --check    # exit 1 when a table is not what its summaries give

A rendered table sits between two comments that name its kind and its summaries (folders
under docs/, as mode_collapse.py's --out wrote them):

    <!-- rendered: curve runs/ogan-stacked-w0.5 -->
    ...
    <!-- end rendered -->

Kinds: `curve` (each checkpoint's modes, KL and logged rho, from mode_collapse_curve.json),
`seeds` (each seed's last figures and the mean ± sd, from mode_collapse.json), `modes` (each
collapsed run's samples in both of G's modes, from SEED/generator_modes.json) and `verdicts`
(experiments/ogan_claims.py's verdicts: `verdicts stacked CONTROL W=FOLDER ...`). Folders of one setting's seeds join with `+`.
tests/test_docs.py runs the check, so a figure in these tables cannot drift from its summary.
"""

import contextlib
import glob
import io
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
sys.path[:0] = [ROOT, os.path.join(ROOT, "experiments")]

BLOCK = re.compile(r"(<!-- rendered: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- end rendered -->)", re.S)


def _load(folder, name):
    with open(os.path.join(DOCS, folder, name)) as f:
        return json.load(f)


def _cell(row, key, digits=3):
    from collapse.reports import number

    return "-" if row.get(key) is None else number(row[key], digits)


def _fixed(row, key):
    return "-" if row.get(key) is None else f"{row[key]:.3f}"


def curve(folder):
    """Each O-GAN checkpoint: modes of 1,000, KL and the rho logged over the 500 steps before it."""
    report = _load(folder, "mode_collapse_curve.json")
    lines = ["| seed | step | modes of 1,000 | KL | rho, logged over the 500 steps before |", "|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['step']:,} | {r['modes']:,} | {r['kl']:.2f} | {_fixed(r, 'logged_rho')} |"
              for r in report["rows"]]
    real = report["real"]
    lines.append(f"| real stacked digits (yardstick) | - | {real['modes']:,} | {real['kl']:.3f} | - |")
    return lines


def seeds(folders):
    """Each seed's figures at its last step, and the mean ± population sd over the seeds (folders
    joined by `+`: the seeds of one setting run into several --out folders)."""
    from collapse.reports import cells, spread
    from ogan_claims import read_runs

    report, runs = _load(folders.split("+")[0], "mode_collapse.json"), read_runs(_in_docs(folders))
    keys = [k for k in ("modes", "kl", "ndb_k", "jsd", "diversity", "near_duplicates", "l1", "ssim",
                        "sharpness_ratio", "logged_rho") if any(k in r for r in runs)]
    lines = ["| run | step | collapsed | " + " | ".join(keys) + " |", "|---|---|---|" + "---|" * len(keys)]
    lines += [f"| {r['model']} seed {r['seed']} | {r['step']:,} | {'yes' if r['collapsed'] else 'no'} | "
              f"{cells(r, keys)} |" for r in runs]
    for name, figures in spread(runs).items():
        mine = [r for r in runs if r["model"] == name]
        lines.append(f"| **{name}, {len(mine)} seed{'s' if len(mine) > 1 else ''}** | | "
                     f"{sum(r['collapsed'] for r in mine)} of {len(mine)} | {cells(figures, keys)} |")
    real = report["real_held_out"]
    lines.append("| real (yardstick) | | | " + " | ".join(_cell(real, k) for k in keys) + " |")
    return lines


def modes(folder):
    """Each run with a generator_modes.json: modes and rho(z, E(G(z))) in inference and training mode."""
    lines = ["| run | step | modes, inference | modes, training | rho, inference | rho, training | "
             "rho, logged over the last 500 steps |", "|---|---|---|---|---|---|---|"]
    for path in sorted(glob.glob(os.path.join(DOCS, folder, "*", "generator_modes.json"))):
        with open(path) as f:
            m = json.load(f)
        inference, training = m["inference"], m["training"]
        lines.append(f"| {os.path.basename(os.path.dirname(path))} | {m['step']:,} | {inference['modes']:,} | "
                     f"{training['modes']:,} | {_fixed(inference, 'rho')} | {_fixed(training, 'rho')} | "
                     f"{_fixed(m, 'logged_rho_last_500_steps')} |")
    return lines


def _in_docs(folders):
    return "+".join(os.path.join(DOCS, f) for f in folders.split("+"))


def verdicts(benchmark, control, *weights):
    """ogan_claims.py's lines, one per weight, for folders under docs/."""
    import ogan_claims

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ogan_claims.main([benchmark, _in_docs(control)]
                         + [f"{w.partition('=')[0]}={_in_docs(w.partition('=')[2])}" for w in weights])
    return [f"- {line}" for line in out.getvalue().splitlines()]


KINDS = {"curve": curve, "seeds": seeds, "modes": modes, "verdicts": verdicts}


def render(text):
    def one(match):
        kind, *args = match["spec"].split()
        if kind not in KINDS:
            raise SystemExit(f"error: unknown rendered table kind {kind!r} (known: {', '.join(KINDS)})")
        return match.group(1) + "\n".join(KINDS[kind](*args)) + "\n" + match.group(4)

    return BLOCK.sub(one, text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for page in sorted(glob.glob(os.path.join(DOCS, "*.md"))):
        with open(page) as f:
            text = f.read()
        new = render(text)
        if new != text:
            stale.append(page)
            if "--check" not in argv:
                with open(page, "w") as f:
                    f.write(new)
                print(f"wrote {page}")
    if stale and "--check" in argv:
        print("not what their summaries give: " + ", ".join(os.path.relpath(p, ROOT) for p in stale)
              + " (run python tools/doc_tables.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
