"""How long a run takes to start, and to start again: first start, `--resume` with the compiled
programs kept, and `--resume --no-program-cache`.

    python benchmarks/restart.py --preset paper --steps 800    # AEGAN, the fused round (200+ rounds)
    python benchmarks/restart.py --preset paper --steps 796    # one program per kind of update (under 200 rounds)
    KERAS_BACKEND=jax python benchmarks/restart.py --preset small --steps 796
    python benchmarks/restart.py --script ogan_celeba.py --preset small --steps 800

Each start trains in a fresh run folder (the resumes in the first start's) until two rounds are
logged, then is stopped with SIGTERM, as a user's Ctrl-C would (the checkpoint it writes is what
the resume starts from). For each it prints the seconds from process start to the end of its
first round (the run's own "first round done" line, its programs' tracing and compiling or
loading included), a later round's seconds (from the run's log), and the difference: what a
start costs beyond a round. Programs are kept under a fresh --cache-dir, so the first start is
cold.
"""

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKERS = ("first round done", "first call done")


def rows(out):
    try:
        with open(os.path.join(out, "losses.csv")) as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def start(args, out, cache, extra, limit):
    """(seconds to the end of the first round, a later round's seconds, the run's "CPU compile:"
    and "program ...: compiled/loaded" lines) of one start."""
    command = [sys.executable, os.path.join(ROOT, "experiments", args.script), "--preset", args.preset,
               "--steps", str(args.steps), *(["--data", args.data] if args.data else []), "--cache-dir", cache, "--out", out,
               "--checkpoint-every", str(args.steps), "--sample-every", str(args.steps), *args.extra, *extra]
    before = len(rows(out))
    began = time.perf_counter()
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    seen, text = [], []

    def read():
        for chunk in iter(lambda: os.read(run.stdout.fileno(), 4096), b""):
            text.append(chunk.decode(errors="replace"))
            if not seen and any(m in "".join(text[-3:]) for m in MARKERS):
                seen.append(time.perf_counter() - began)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while run.poll() is None and len(rows(out)) < before + 2 and time.perf_counter() - began < limit:
        time.sleep(0.2)
    if run.poll() is None:
        run.send_signal(signal.SIGTERM)
    run.wait()
    reader.join(5)
    logged = rows(out)[before:]
    if not seen or len(logged) < 2:
        sys.exit(f"error: the run did not log two rounds within {limit} s:\n{''.join(text)[-2000:]}")
    chosen = [line for line in "".join(text).splitlines() if line.startswith(("CPU compile:", "program "))]
    return seen[0], float(logged[1]["seconds"]) - float(logged[0]["seconds"]), chosen


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--script", default="aegan_anime.py", help="the training script (default aegan_anime.py)")
    p.add_argument("--preset", default="paper")
    p.add_argument("--steps", type=int, default=800, help="the run's --steps: it decides fused or per-update programs")
    p.add_argument("--data", help="the training data (default: the script's)")
    p.add_argument("--limit", type=float, default=900, help="seconds one start may take (default 900)")
    p.add_argument("extra", nargs="*", help="more flags for the script, after --")
    args = p.parse_args()
    sys.path.insert(0, ROOT)
    from common.cpu_compile import cpu_name

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    print(f"{args.script} --preset {args.preset} --steps {args.steps} {' '.join(args.extra)}".strip()
          + f", {backend}, CPU: {cpu_name()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out, cache = os.path.join(tmp, "run"), os.path.join(tmp, "cache")
        for label, extra in (("first start", []), ("--resume, programs kept", ["--resume"]),
                             ("--resume --no-program-cache", ["--resume", "--no-program-cache"])):
            first, later, chosen = start(args, out, cache, extra, args.limit)
            print(f"{label}: first round done {first:.1f} s after process start; a later round "
                  f"{later:.1f} s; the start beyond a round {first - later:.1f} s", flush=True)
            for line in chosen:  # each program's first call; under TensorFlow on a CPU, XLA or a graph
                print(f"    {line}", flush=True)


if __name__ == "__main__":
    main()
