"""Kill -9 a training run at random moments, resume it each time, and check what survived.

    python benchmarks/kill_resume.py --kills 10
    python benchmarks/kill_resume.py --kills 10 --model aegan --steps 200

Trains the training script's `tiny` preset on a folder of images it writes (so the first
start also builds the image cache), with a checkpoint every round and grids every 2 rounds,
so that kills land in steps, checkpoint and grid writes alike. First one uninterrupted run
gives the reference; then the same command is started with --resume and killed (SIGKILL) at a
moment drawn uniformly over the reference's duration, again and again, until it has been
killed --kills times (a run that finishes first is checked and a fresh one started).

After every kill: every file under the run folder and the cache that is not a temporary is
whole (checkpoints and .npz load, PNGs decode, every log line is a whole row); the next start
resumes from the newest checkpoint that was on disk. At the end: the loss log holds every
step exactly once, and the final weights and losses equal the uninterrupted run's.
Prints `N/N resumed, K corrupt, final weights equal: yes|no`; asserts nothing.
"""

import argparse
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np
from PIL import Image

from common import checkpoint, files

SCRIPT = os.path.join(ROOT, "experiments", "aegan_anime.py")


def write_images(folder, n=240):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i:04d}.png"))


def command(work, out, model, steps, seed):
    return [sys.executable, SCRIPT, "--preset", "tiny", "--model", model, "--steps", str(steps),
            "--seed", str(seed), "--checkpoint-every", "4", "--sample-every", "8", "--keep", "2",
            "--data", os.path.join(work, "images"), "--cache-dir", os.path.join(work, "cache"), "--out", out]


def _text(path):
    with open(path) as f:
        return f.read()


def damaged_files(out, cache_dir):
    """Names of files under the run folder and the cache that are not whole."""
    bad = []
    paths = [p for d in (out, cache_dir) for p in glob.glob(os.path.join(d, "**", "*"), recursive=True)
             if os.path.isfile(p) and files.TEMPORARY not in p and "tensorboard" not in p]
    for p in paths:
        try:
            if p.endswith(".npz"):
                if "ckpt-" in p:
                    checkpoint.read(p)
                else:
                    with np.load(p) as f:
                        [f[k] for k in f.files]
            elif p.endswith(".npy"):
                np.load(p)
            elif p.endswith(".png"):
                with Image.open(p) as im:
                    im.load()
            elif p.endswith("losses.csv"):
                lines = _text(p).split("\n")
                header = lines[0].split(",")
                assert lines[-1] == "" and all(len(line.split(",")) == len(header) for line in lines[1:-1])
            elif p.endswith("losses.jsonl"):
                text = _text(p)
                assert text == "" or text.endswith("\n")
                [json.loads(line) for line in text.splitlines()]
        except Exception as e:  # noqa: BLE001 - any failure to read is damage
            bad.append(f"{p}: {type(e).__name__}: {e}")
    return bad


def newest_step(out):
    latest = checkpoint.load_latest(os.path.join(out, "checkpoints"))
    return latest[1]["step"] if latest else 0


def final_state(out):
    _, meta, flat = checkpoint.load_latest(os.path.join(out, "checkpoints"))
    return meta["step"], flat


def logged_losses(out):
    rows = [line.split(",") for line in _text(os.path.join(out, "losses.csv")).splitlines()[1:]]
    return [int(r[0]) for r in rows], np.array([[float(v) for v in r[1:-1]] for r in rows])  # no "seconds"


def soak(kills, model="gan", steps=96, seed=0, work=None, verbose=True):
    """Returns {"kills", "resumed", "corrupt", "equal", "log_ok", "details"}."""
    say = print if verbose else (lambda *a, **k: None)
    work = work or tempfile.mkdtemp(prefix="kill-resume-")
    write_images(os.path.join(work, "images"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}  # a killed run's lines too
    t = time.time()
    ref = os.path.join(work, "reference")
    done = subprocess.run(command(work, ref, model, steps, seed), capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the reference run failed:\n{done.stderr[-3000:]}")
    duration = time.time() - t
    shutil.rmtree(os.path.join(work, "cache"))  # the killed runs build it again
    ref_step, ref_flat = final_state(ref)
    ref_steps, ref_losses = logged_losses(ref)
    say(f"reference: {steps} steps of tiny {model} in {duration:.1f} s")

    rng = random.Random(seed)
    result = {"kills": 0, "resumed": 0, "corrupt": 0, "equal": True, "log_ok": True, "details": []}
    instance, out, expected = 0, os.path.join(work, "run0"), None

    def finish_instance(out):
        step, flat = final_state(out)
        equal = step == ref_step and flat.keys() == ref_flat.keys() and all(
            np.array_equal(flat[k], ref_flat[k]) for k in ref_flat)
        logged, losses = logged_losses(out)
        log_ok = logged == ref_steps and np.array_equal(losses, ref_losses)
        result["equal"] &= equal
        result["log_ok"] &= log_ok
        say(f"  run {instance} finished: weights equal {equal}, log steps and losses equal {log_ok}")

    pending = 0  # kills since the last start that was seen resuming

    def check_resume(output):
        """A start after kills must resume from the newest checkpoint they left."""
        nonlocal pending
        found = re.search(r"resuming from \S+ at step (\d+)", output)
        started = int(found.group(1)) if found else 0 if "starting from step 0" in output else None
        if started is None:
            return  # killed before it read a checkpoint: the next start must show it
        if started == expected:
            result["resumed"] += pending
        else:
            result["details"].append(f"expected a resume at step {expected}, started at {started}")
        pending = 0

    # After the last kill, its run is resumed once more and left to finish.
    while result["kills"] < kills or expected is not None:
        proc = subprocess.Popen(command(work, out, model, steps, seed) + (["--resume"] if expected is not None else []),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        delay = rng.uniform(0, duration) if result["kills"] < kills else None
        try:
            output = proc.communicate(timeout=delay)[0]
            killed = False
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL
            output = proc.communicate()[0]
            killed = True
        if expected is not None:
            check_resume(output)
        if not killed and proc.returncode != 0:
            raise RuntimeError(f"a resumed run failed:\n{output[-3000:]}")
        bad = damaged_files(out, os.path.join(work, "cache"))
        result["corrupt"] += len(bad)
        result["details"] += bad
        if killed:
            result["kills"] += 1
            pending += 1
            expected = newest_step(out)
            say(f"  kill {result['kills']} after {delay:.1f} s: newest checkpoint at step {expected}"
                + (f"; {len(bad)} damaged file(s)" if bad else ""))
        else:
            finish_instance(out)
            instance, out, expected = instance + 1, os.path.join(work, f"run{instance + 1}"), None
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--model", default="gan", help="gan, aae or aegan (the training script's tiny preset)")
    p.add_argument("--steps", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", help="folder for the runs (default: a new temporary folder)")
    args = p.parse_args()
    r = soak(args.kills, args.model, args.steps, args.seed, args.work)
    for d in r["details"]:
        print("  " + d)
    print(f"{r['resumed']}/{r['kills']} resumed, {r['corrupt']} corrupt, "
          f"final weights equal: {'yes' if r['equal'] else 'no'}, "
          f"loss log every step once and equal: {'yes' if r['log_ok'] else 'no'}")


if __name__ == "__main__":
    main()
