"""One training loop for every model: progress, logs, grids, checkpoints and resume.

It knows a model only through its round function (compiled by `model.compiled`),
`generate`, optional `encode`, and how many image and z batches a round draws.
"""

import contextlib
import dataclasses
import json
import os
import sys
import time

import numpy as np
from keras.utils import Progbar

from common import UserError, checkpoint, cpu_compile, engine, files, images
from common.data import to_uint8
from common.inference import Inference
from common.model import ROUND_PROGRAMS

FIXED_COUNT = 400  # fixed test images and fixed z, saved once per run
# Rounds a run must have in all (not left: a resumed run computes as an unbroken one) for its
# round to be compiled as one program. Measured on the
# 2-core CPU (benchmarks/train_step.py --round unrolled,per-update): the fused AEGAN round at the small
# preset runs 472 against 1047 ms but compiles in 100 against 29 s, so it pays back after
# about 120 rounds (tiny: about 250).
FUSE_MIN_ROUNDS = 200


def logged_mean(run_dir, column, end_step=None, last=500):
    """The mean of a run's logged `column` (losses.csv) over the `last` steps up to `end_step`
    (default: its last logged step), or None where the run has no such log or column."""
    import csv

    path = os.path.join(run_dir, "losses.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rows = [r for r in csv.DictReader(f) if r.get(column) not in (None, "")]
    end = float(rows[-1]["step"]) if rows and end_step is None else end_step
    tail = [float(r[column]) for r in rows if end - last < float(r["step"]) <= end]
    return sum(tail) / len(tail) if tail else None


class RunError(UserError, RuntimeError):
    """A run that cannot start or continue as asked; the message says why."""


def _loss_columns(model):
    cols = []
    for group, names in model.loss_names.items():
        cols += [group if n == "loss" else n for n in names]
    return cols


def _summarise(model, losses):
    """{optimizer: (updates, k) array} -> {column: mean over the round's updates}."""
    row = {}
    for group, names in model.loss_names.items():
        values = np.asarray(losses[group]).reshape(-1, len(names)).mean(axis=0)
        for n, v in zip(names, values):
            row[group if n == "loss" else n] = float(v)
    return row


class Logs:
    """losses.csv, losses.jsonl and (where TensorFlow and TensorBoard are installed) TensorBoard events.

    Rows are buffered and appended every few seconds, each file's new lines in one write, so
    a killed process leaves whole lines only; `flush(sync=True)` runs before every checkpoint,
    so the log always reaches the newest checkpoint's step.
    """

    FLUSH_SECONDS = 2.0

    def __init__(self, out_dir, columns, resume_step):
        self.csv_path = os.path.join(out_dir, "losses.csv")
        self.json_path = os.path.join(out_dir, "losses.jsonl")
        self.columns = ["step", *columns, "seconds"]
        self.pending, self.flushed_at = [], time.time()
        # After a resume, rows past the checkpoint are dropped: they are trained again.
        for path, parse in ((self.csv_path, self._csv_step), (self.json_path, self._json_step)):
            if os.path.exists(path):
                with open(path) as f:
                    lines = f.readlines()
                steps = [parse(i, line) for i, line in enumerate(lines)]
                kept = [line for line, step in zip(lines, steps) if step is not None and step <= resume_step]
                if kept != lines:
                    files.write_atomic(path, lambda f, kept=kept: f.write("".join(kept).encode()))
        if not os.path.exists(self.csv_path) or os.path.getsize(self.csv_path) == 0:
            files.write_atomic(self.csv_path, lambda f: f.write((",".join(self.columns) + "\n").encode()))
        self.tensorboard = None
        try:
            import tensorflow as tf

            with tf.device("/cpu:0"):
                self.tensorboard = tf.summary.create_file_writer(os.path.join(out_dir, "tensorboard"))
            self._tf = tf
        except ImportError:
            pass
        except Exception as error:
            self._tensorboard_failed(error)

    def _csv_step(self, i, line):
        """A data row's step; -1 for the header; None for a line that is not a whole row."""
        if i == 0:
            return -1
        fields = line.rstrip("\n").split(",")
        if not line.endswith("\n") or len(fields) != len(self.columns):
            return None
        try:
            return int(fields[0])
        except ValueError:
            return None

    @staticmethod
    def _json_step(i, line):
        try:
            return json.loads(line)["step"] if line.endswith("\n") else None
        except (ValueError, KeyError, TypeError):
            return None

    def write(self, row):
        self.pending.append(row)
        if time.time() - self.flushed_at >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self, sync=False):
        rows, self.pending, self.flushed_at = self.pending, [], time.time()
        csv = "".join(",".join(f"{row[c]:.6g}" if c != "step" else str(row[c]) for c in self.columns) + "\n"
                      for row in rows)
        jsonl = "".join(json.dumps(row) + "\n" for row in rows)
        for path, text in ((self.csv_path, csv), (self.json_path, jsonl)):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if text:
                    os.write(fd, text.encode())
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        if self.tensorboard is not None and rows:
            try:
                with self.tensorboard.as_default(), self._tf.device("/cpu:0"):
                    for row in rows:
                        for k, v in row.items():
                            if k != "step":
                                self._tf.summary.scalar(k, v, step=row["step"])
            except Exception as error:
                self._tensorboard_failed(error)

    def _tensorboard_failed(self, error):
        """TensorBoard events are a convenience: without them the CSV and JSONL logs go on."""
        self.tensorboard = None
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"warning: TensorBoard events cannot be written ({type(error).__name__}: {first_line}); "
              "losses.csv and losses.jsonl go on", file=sys.stderr)

    def close(self):
        self.flush(sync=True)
        if self.tensorboard is not None:
            try:
                self.tensorboard.flush()
            except Exception as error:
                self._tensorboard_failed(error)


class _NoLogs:
    """In place of the logs on a process other than the first: only the first writes the run folder."""

    def write(self, row):
        pass

    def flush(self, sync=False):
        pass

    def close(self):
        pass


def fixed_inputs(out_dir, test_images, latent_dim, seed):
    """The run's 400 fixed test images and 400 fixed z: made once, reused for every grid."""
    path = os.path.join(out_dir, "fixed.npz")
    if os.path.exists(path):
        with np.load(path) as f:
            return f["images"], f["z"]
    fixed_images = test_images[:FIXED_COUNT]
    z = np.random.default_rng([seed, 3]).standard_normal((FIXED_COUNT, latent_dim), dtype=np.float32)
    files.write_atomic(path, lambda f: np.savez(f, images=fixed_images, z=z))
    return fixed_images, z


def save_grids(inference, state, out_dir, step, fixed_images, fixed_z, seed, layout):
    """Samples from fixed and random z; real/reconstruction pairs; interpolations (layout: GridLayout)."""
    d = os.path.join(out_dir, "grids")
    os.makedirs(d, exist_ok=True)
    name = lambda kind: os.path.join(d, f"{kind}_{step:09d}.png")
    if fixed_images.dtype != np.uint8:  # 2-D points: a scatter of samples over the data
        images.save_scatter(name("samples_fixed"), fixed_images, inference.generate(state, fixed_z),
                            f"step {step}")
        return
    fake = to_uint8(inference.generate(state, fixed_z[:layout.samples]))
    images.save_png(name("samples_fixed"), images.grid(fake, layout.sample_columns))
    z = np.random.default_rng([seed, 2, step]).standard_normal(
        (layout.random_samples, fixed_z.shape[1]), dtype=np.float32)
    images.save_png(name("samples_random"),
                    images.grid(to_uint8(inference.generate(state, z)), layout.random_columns))
    if not inference.can_encode:
        return
    shown = fixed_images[:layout.pairs]
    recon, _ = inference.reconstruct(state, shown)
    images.save_png(name("reconstructions"), images.grid(images.interleave(shown, recon), layout.pair_columns))
    # Each row: real a, the codes from E(a) to E(b) decoded (the ends are reconstructions), real b.
    n = min(layout.interpolation_rows, len(fixed_images) // 2)
    if n:
        a, b = fixed_images[0:2 * n:2], fixed_images[1:2 * n:2]
        k = layout.interpolation_points
        rows = np.concatenate([a[:, None], inference.interpolate(state, a, b, k), b[:, None]], axis=1)
        images.save_png(name("interpolations"), images.grid(rows.reshape(-1, *rows.shape[2:]), k + 2))


def check_resumable(meta, expected, defaults=None):
    """Refuse a checkpoint made with other settings (any but the number of steps). A setting
    the checkpoint does not name (it predates that setting) had its default."""
    as_saved = lambda v: json.loads(json.dumps(v))  # tuples come back from JSON as lists
    saved = {**{k: as_saved(v) for k, v in (defaults or {}).items()}, **meta["config"]}
    bad = [f"{k}: checkpoint {saved.get(k)!r}, now {v!r}"
           for k, v in expected.items() if saved.get(k) != as_saved(v)]
    if bad:
        raise RunError("cannot resume, the checkpoint was made with other settings: " + "; ".join(bad))


class NonFiniteError(RunError):
    """A loss or weight became NaN or infinite; the message names the step and the loss."""


class RunLock:
    """`OUT/.lock` while a run trains there: a second run on the same folder is refused. A lock
    left by a process that no longer exists (killed, machine restarted) is taken over."""

    def __init__(self, out_dir):
        self.path = os.path.join(out_dir, ".lock")
        self.held = False

    def _owner(self):
        try:
            with open(self.path) as f:
                host, pid = f.read().split()
            return host, int(pid)
        except (OSError, ValueError):
            return None

    def __enter__(self):
        import socket

        me = f"{socket.gethostname()} {os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except OSError as e:
                if not isinstance(e, FileExistsError):
                    raise RunError(f"cannot write in the run folder {os.path.dirname(self.path)}: "
                                   f"{e.strerror or e}") from None
                owner = self._owner()
                if owner and owner[0] == socket.gethostname() and files.process_alive(owner[1]):
                    raise RunError(f"another run (process {owner[1]}) is training in {os.path.dirname(self.path)}; "
                                   "wait for it or choose another --out") from None
                if owner and owner[0] != socket.gethostname():
                    raise RunError(f"{self.path} says a run on {owner[0]} (process {owner[1]}) is training here; "
                                   "delete that file if it is not") from None
                print(f"taking over {self.path}, left by a process that has ended", file=sys.stderr)
                os.remove(self.path)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(me)
            self.held = True
            return self
        raise RunError(f"cannot take the lock {self.path}")

    def __exit__(self, *exc):
        if self.held:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass



def round_spans(first_round, last_round, rounds_per_call):
    """Rounds first..last-1 as (first, last) spans of rounds_per_call rounds, aligned to multiples
    of it from round 0 (a resumed run makes the same calls), each one program (PureModel.train_rounds)."""
    edges = sorted({first_round, last_round,
                    *range(-(-first_round // rounds_per_call) * rounds_per_call, last_round, rounds_per_call)})
    return list(zip(edges[:-1], edges[1:]))


def at_boundary(first_step, last_step, every):
    """Whether a multiple of `every` lies in the steps first_step..last_step (inclusive)."""
    return last_step // every > (first_step - 1) // every


def choose_round_program(requested="auto", recorded=None):
    """How a fused round runs its repeated updates (PureModel.round_program): as requested
    ("unrolled" or "looped"); for "auto", as the resumed run recorded, else "looped" on a GPU or
    TPU and "unrolled" on a CPU. On a CPU the unrolled round runs far faster (the tiny AEGAN's
    2.7x; XLA:CPU runs convolutions in a loop body far off its fast path) and its compile time
    is paid once per run. On an accelerator a loop costs a few kernel launches (microseconds)
    against milliseconds of work per update, and the looped AEGAN round compiles in 0.41x the
    time (docs/performance.md, "Round programs")."""
    if requested not in ("auto", *ROUND_PROGRAMS):
        raise UserError(f"round program {requested!r}: expected auto, {' or '.join(ROUND_PROGRAMS)}")
    if requested != "auto":
        return requested
    if recorded in ROUND_PROGRAMS:
        return recorded
    return "looped" if engine.on_accelerator() else "unrolled"


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def train(model, sampler, test_images, out_dir, meta, steps, resume=False,
          checkpoint_every=1000, sample_every=1000, keep=3, verbose=1, skip_nonfinite=False,
          cpu_compile_mode="auto", cache_dir=None, rounds_per_call=1, round_program="auto"):
    """Train `model` to `steps` steps (rounds of model.steps_per_round), writing under out_dir.

    Ctrl-C or SIGTERM writes a checkpoint and exits; any other error keeps the last finished
    step. A NaN or infinite loss or weight stops the run at the last good state (or, with
    skip_nonfinite, drops that round's update and goes on). Under TensorFlow on a CPU,
    cpu_compile_mode chooses XLA or a graph without it (common/cpu_compile.py; the decision is
    cached under cache_dir). With rounds_per_call above 1, that many rounds run as one program
    (PureModel.train_rounds), on one device. round_program is how a fused round runs its
    repeated updates (`choose_round_program`).

    In a run over several processes (engine.join_launched_processes) every process trains, and
    only the first writes out_dir; every process reads it to resume.
    """
    import signal

    first = engine.process_index() == 0
    if first:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot use {out_dir} as the run folder: {e.strerror or e}") from None
    with RunLock(out_dir) if first else contextlib.nullcontext():
        if first:
            for root, _, _ in os.walk(out_dir):
                files.remove_stale_temporaries(root)
        term = None
        try:
            term = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        except ValueError:  # not the main thread: SIGTERM keeps its handler
            pass
        try:
            return _train(model, sampler, test_images, out_dir, meta, steps, resume, checkpoint_every,
                          sample_every, keep, verbose, skip_nonfinite, cpu_compile_mode, cache_dir,
                          rounds_per_call, round_program)
        finally:
            if term is not None:
                signal.signal(signal.SIGTERM, term)


def _train(model, sampler, test_images, out_dir, meta, steps, resume, checkpoint_every, sample_every,
           keep, verbose, skip_nonfinite, cpu_compile_mode, cache_dir, rounds_per_call, round_program):
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    state, start_step, recorded_compile, recorded_round = model.initial_state(), 0, None, None
    latest = checkpoint.load_latest(ckpt_dir)
    if latest and not resume:
        raise RunError(f"{out_dir} already holds a run (step {latest[1]['step']}): "
                       f"add --resume to continue it, or choose another --out")
    if resume and latest:
        path, ckpt_meta, flat = latest
        if ckpt_meta.get("weights_only"):
            raise RunError(f"{path} holds weights only ({' and '.join(ckpt_meta['weights_only'])}; no "
                           "discriminator or optimizer state): it samples and encodes, but cannot be resumed. "
                           "Train a new run with another --out")
        defaults = ({f.name: f.default for f in dataclasses.fields(model.cfg)}
                    if dataclasses.is_dataclass(model.cfg) else {})
        check_resumable(ckpt_meta, {k: v for k, v in meta["config"].items() if k != "steps"}, defaults)
        state = checkpoint.unflatten(flat, state)
        start_step = ckpt_meta["step"]
        recorded_compile, recorded_round = ckpt_meta.get("cpu_compile"), ckpt_meta.get("round_program")
        print(f"resuming from {path} at step {start_step}")
    elif resume:
        print(f"--resume: no checkpoint in {ckpt_dir}, starting from step 0")
    engine.check_same_on_every_process(
        np.array([start_step], np.int32), "the processes would start from different steps: every process "
        f"must read the same run folder {out_dir} (a filesystem they share) to resume")

    first = engine.process_index() == 0
    if first:
        fixed_images, fixed_z = fixed_inputs(out_dir, test_images, model.latent_dim, meta["seed"])
        logs, inference = Logs(out_dir, _loss_columns(model), start_step), Inference(model)
    else:
        logs, verbose = _NoLogs(), 0
    per_round = model.steps_per_round
    first_round = start_step // per_round
    last_round = -(-steps // per_round)
    fused = last_round >= FUSE_MIN_ROUNDS  # not rounds left: a resumed run computes as an unbroken one
    model.set_round_program(choose_round_program(round_program, recorded_round))
    model.report_programs = bool(verbose)
    meta = {**meta, "round_program": model.round_program}
    if first_round < last_round and cpu_compile.applies(model):
        print(cpu_compile.choose(model, state, model.place_batches(sampler.round(first_round)), fused,
                                 cpu_compile_mode, cache_dir, recorded_compile, rounds_per_call), flush=True)
        meta = {**meta, "cpu_compile": "xla" if model.xla_on_cpu else "graph"}
    bar = Progbar(last_round * per_round, verbose=verbose, unit_name="step")
    step, saved_step, skipped = start_step, start_step, 0
    t0, started = time.time(), time.perf_counter()

    def save_checkpoint():
        if not first:
            return None
        logs.flush(sync=True)  # the log reaches every checkpoint's step
        return checkpoint.save(ckpt_dir, step, state, meta, keep=keep)

    spans = None
    if rounds_per_call > 1:
        if skip_nonfinite:
            raise RunError("--skip-nonfinite drops single rounds: it needs one round per call")
        if model.data_parallel:
            raise RunError("several rounds per call run on one device: train on several with one round per call")
        spans = round_spans(first_round, last_round, rounds_per_call)

    try:
        calls = sampler.prefetch(first_round, last_round, place=model.place_batches, spans=spans)
        for r0, (imgs, zs) in zip((a for a, _ in spans) if spans else range(first_round, last_round), calls):
            if spans:
                new_state, losses, good = model.train_rounds(state, imgs, zs)
                losses, good = engine.to_numpy((losses, good))
                results = [({k: v[i] for k, v in losses.items()}, g) for i, g in enumerate(good)]
            else:
                new_state, losses, finite = model.train_round(state, imgs, zs, fused)
                results = [engine.to_numpy((losses, finite))]
            if step == start_step and verbose:  # where a slow start spends its time
                print(f"first {'call' if spans else 'round'} done in {time.perf_counter() - started:.1f} s "
                      "(its programs' tracing and compiling or loading included)", flush=True)
            first_step = step + 1
            for i, (losses, finite) in enumerate(results):
                row = {"step": (r0 + i + 1) * per_round, **_summarise(model, losses), "seconds": time.time() - t0}
                bad = [k for k, v in row.items() if not np.isfinite(v)]
                if not bad and not bool(finite):
                    bad = ["a weight"]
                if bad:
                    what = f"step {row['step']}: {', '.join(bad)} became NaN or infinite"
                    if spans:  # the program kept the last good round's state
                        state = new_state
                    if not skip_nonfinite:
                        raise NonFiniteError(f"{what}; stopped at the last good state (step {step}). Continue "
                                             "with --resume, or add --skip-nonfinite to drop such updates")
                    skipped += 1
                    print(f"\n{what}; update dropped ({skipped} so far)", file=sys.stderr)
                else:
                    logs.write(row)
                step = row["step"]
            if not bad:
                state = new_state
            last = step >= last_round * per_round
            bar.update(step, values=[(k, v) for k, v in row.items() if k not in ("step", "seconds")][:4])
            if at_boundary(first_step, step, checkpoint_every) or last:
                save_checkpoint()
                saved_step = step
            if first and (at_boundary(first_step, step, sample_every) or last):
                # Over several processes the state spans them all: the grids are drawn from a host copy.
                on_host = state if engine.process_count() == 1 else engine.to_numpy(state)
                save_grids(inference, on_host, out_dir, step, fixed_images, fixed_z, meta["seed"], model.grids)
    except KeyboardInterrupt:
        try:
            if step > saved_step:
                save_checkpoint()
            logs.close()
        except OSError as error:
            raise _disk_error(error, ckpt_dir) from None
        if first:
            print(f"\ninterrupted at step {step}; checkpoint written. Continue with the same "
                  f"command plus --resume.", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as error:
        # `state` is the last good round's: keep that work before the error surfaces.
        if step > saved_step:
            try:
                path = save_checkpoint()
                if path:
                    print(f"\nerror after step {step}; its checkpoint is {path}", file=sys.stderr)
            except OSError:
                pass  # the disk error below says it
        if isinstance(error, OSError):
            raise _disk_error(error, ckpt_dir) from None
        logs.close()
        raise
    try:
        logs.close()
    except OSError as error:
        raise _disk_error(error, ckpt_dir) from None
    return state, step


def _disk_error(error, ckpt_dir):
    """A failed write (disk full, folder not writable) as one line naming what is safe."""
    what = f"{error.strerror or error} ({error.filename})" if error.filename else str(error)
    latest = checkpoint.list_checkpoints(ckpt_dir)
    kept = (f"the checkpoint {latest[-1]} is intact: free space or fix the folder, then continue "
            "with --resume") if latest else "no checkpoint was written yet"
    return RunError(f"cannot write to the run folder: {what}; {kept}")
