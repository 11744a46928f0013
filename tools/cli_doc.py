"""docs/cli.md: every script's --help, as the scripts print it.

    python tools/cli_doc.py            # rewrite docs/cli.md
    python tools/cli_doc.py --check    # exit 1 when docs/cli.md is not what the scripts print

tests/test_docs.py runs the check, so the reference cannot drift from the flags.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "cli.md")
SCRIPTS = ["aegan_anime.py", "ogan_celeba.py", "sample.py", "evaluate.py", "figures.py", "mode_collapse.py",
           "mode_counts.py", "generator_modes.py", "ogan_claims.py", "export_weights.py", "import_authors.py"]


def help_text(script):
    env = {**os.environ, "COLUMNS": "100", "TF_CPP_MIN_LOG_LEVEL": "3"}  # argparse wraps to COLUMNS
    done = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", script), "--help"],
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    return done.stdout.rstrip()


def render():
    parts = ["# Command-line reference\n",
             "Every script's `--help`, as it prints it (rendered by `python tools/cli_doc.py`; "
             "`tests/test_docs.py` checks it is current).\n"]
    parts += [f"- [`{s}`](#{s.replace('.', '')})" for s in SCRIPTS]
    for script in SCRIPTS:
        parts.append(f"\n## {script}\n\n```text\n{help_text(script)}\n```")
    return "\n".join(parts) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        with open(PAGE) as f:
            current = f.read()
        if current != text:
            print(f"{PAGE} is not what the scripts print: run python tools/cli_doc.py", file=sys.stderr)
            return 1
        return 0
    with open(PAGE, "w") as f:
        f.write(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
