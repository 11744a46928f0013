"""A run folder: its lock, its logs, its fixed test inputs and grids, and the checkpoint a run
resumes from. What the training loop (common/loop.py) writes there, one run or several."""

import contextlib
import dataclasses
import json
import os
import sys
import time

import numpy as np

from common import UserError, checkpoint, files, images
from common.data import to_uint8

FIXED_COUNT = 400  # fixed test images and fixed z, saved once per run


class RunError(UserError, RuntimeError):
    """A run that cannot start or continue as asked; the message says why."""


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


class TensorBoardEvents:
    """Scalars in a TensorBoard event file of its own in `folder`, one file per start, written
    with the tensorboard package's record format and protocol buffers: no TensorFlow import,
    which costs a JAX run 4-8 s at every start. Each `write` appends and flushes its events."""

    def __init__(self, folder):
        import socket

        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event, self._summary = event_pb2.Event, summary_pb2.Summary
        os.makedirs(folder, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}"
        self._records = RecordWriter(open(os.path.join(folder, name), "ab"))
        self._records.write(self._event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        self._records.flush()

    def write(self, rows):
        """Each row's values but its step, as scalars at that step."""
        for row in rows:
            values = [self._summary.Value(tag=k, simple_value=float(v)) for k, v in row.items() if k != "step"]
            event = self._event(wall_time=time.time(), step=int(row["step"]), summary=self._summary(value=values))
            self._records.write(event.SerializeToString())
        self._records.flush()

    def close(self):
        self._records.close()


class Logs:
    """losses.csv, losses.jsonl and (where the tensorboard package is installed) TensorBoard events.

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
            self.tensorboard = TensorBoardEvents(os.path.join(out_dir, "tensorboard"))
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
                self.tensorboard.write(rows)
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
                self.tensorboard.close()
            except Exception as error:
                self._tensorboard_failed(error)


class NoLogs:
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
    if fixed_images.ndim == 2:  # 2-D points: a scatter of samples over the data
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


@contextlib.contextmanager
def prepared(out_dirs):
    """The run folders made, each locked for the run (RunLock), the temporaries a killed
    process left in them removed."""
    for d in out_dirs:
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot use {d} as the run folder: {e.strerror or e}") from None
    with contextlib.ExitStack() as locks:
        for d in out_dirs:
            locks.enter_context(RunLock(d))
            for root, _, _ in os.walk(d):
                files.remove_stale_temporaries(root)
        yield


def resume_point(model, out_dir, config, resume, initial_state=None):
    """(state, step, the checkpoint's meta) a run starts from: with `resume`, its newest
    checkpoint, refused where it was made with other settings; else (or without one) its
    initial state at step 0 (None: the model's own, computed only then). A folder that holds a
    run is not trained over without `resume`."""
    ckpt_dir = os.path.join(out_dir, "checkpoints")
    latest = checkpoint.load_latest(ckpt_dir)
    if latest and not resume:
        raise RunError(f"{out_dir} already holds a run (step {latest[1]['step']}): "
                       f"add --resume to continue it, or choose another --out")
    if not latest:
        if resume:
            print(f"--resume: no checkpoint in {ckpt_dir}, starting from step 0")
        return model.initial_state() if initial_state is None else initial_state, 0, {}
    path, meta, flat = latest
    if meta.get("weights_only"):
        raise RunError(f"{path} holds weights only ({' and '.join(meta['weights_only'])}; no "
                       "discriminator or optimizer state): it samples and encodes, but cannot be resumed. "
                       "Train a new run with another --out")
    defaults = {f.name: f.default for f in dataclasses.fields(model.cfg)} if dataclasses.is_dataclass(model.cfg) else {}
    check_resumable(meta, {k: v for k, v in config.items() if k != "steps"}, defaults)
    print(f"resuming from {path} at step {meta['step']}")
    return checkpoint.unflatten(flat, model.state_template()), meta["step"], meta


def disk_error(error, ckpt_dir):
    """A failed write (disk full, folder not writable) as one line naming what is safe."""
    what = f"{error.strerror or error} ({error.filename})" if error.filename else str(error)
    latest = checkpoint.list_checkpoints(ckpt_dir)
    kept = (f"the checkpoint {latest[-1]} is intact: free space or fix the folder, then continue "
            "with --resume") if latest else "no checkpoint was written yet"
    return RunError(f"cannot write to the run folder: {what}; {kept}")
