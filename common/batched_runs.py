"""Several runs of one model trained as one program, each written to its own run folder.

On a GPU a 2-D round leaves the device almost idle: its networks are small and its batches
100 points, so the time goes to launching kernels, not to arithmetic. Stacking the runs (seeds)
along a new leading axis and mapping the round over it (`PureModel.train_rounds_batched`,
`engine.vmap`) makes every kernel wider instead of making more of them. On the 2-core CPU it
gained nothing (README, "Speed"), because there the rounds are arithmetic.

Each run keeps what it has when trained alone: its own initial weights, data order, z and
noise seeds, its own losses.jsonl, grids and checkpoints in its own folder. A checkpoint is an
ordinary one: the run can be continued alone by `common.loop.train`, or batched again.
"""

import contextlib
import dataclasses
import os
import time

import keras
import numpy as np
from keras.utils import Progbar

from common import checkpoint, data, engine, files
from common.inference import Inference
from common.loop import (Logs, NonFiniteError, RunError, RunLock, _disk_error, _loss_columns,
                         _raise_keyboard_interrupt, _summarise, at_boundary, check_resumable, fixed_inputs,
                         round_spans, save_grids)


@dataclasses.dataclass
class Run:
    """One run of a batch: its sampler (its data and seed), held-out data, folder, meta and the
    initial state of its model (built under its own seed)."""

    sampler: data.RoundSampler
    test_images: np.ndarray
    out_dir: str
    meta: dict
    initial_state: dict


class BatchedSampler:
    """The runs' batches of the same rounds, stacked along a new leading axis."""

    def __init__(self, samplers):
        self.samplers = samplers

    def rounds(self, first, last):
        return stack_runs([s.rounds(first, last) for s in self.samplers])

    prefetch = data.RoundSampler.prefetch  # given spans, as batched runs always are, it draws through rounds only


def stack_runs(trees):
    """The runs' states (or batches) as one, each array stacked along a new leading axis."""
    return keras.tree.map_structure(lambda *leaves: np.stack(leaves), *trees)


def unstack_runs(tree, count):
    """stack_runs undone: `count` trees."""
    return [keras.tree.map_structure(lambda a: a[i], tree) for i in range(count)]


def train(model, runs, steps, resume=False, checkpoint_every=1000, sample_every=1000, keep=3, verbose=1,
          rounds_per_call=100):
    """Train the runs (a list of Run) of `model` to `steps` steps as one program per span of
    rounds_per_call rounds. Returns (their states, the step reached).

    The runs resume together: each from its own newest checkpoint, all at the same step. Ctrl-C or
    SIGTERM writes every run's checkpoint and exits. A round that turns a run's loss or weight
    NaN or infinite stops the training: every run is saved at its last good state (the others at
    the end of the span) and the error names the runs.
    """
    import signal

    if engine.process_count() > 1 or model.data_parallel:
        raise RunError("several runs in one program train on one device, in one process")
    dirs = [run.out_dir for run in runs]
    if len(set(map(os.path.abspath, dirs))) != len(dirs):
        raise RunError(f"each run needs a folder of its own, not {', '.join(dirs)}")
    for d in dirs:
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot use {d} as a run folder: {e.strerror or e}") from None
    with contextlib.ExitStack() as locks:
        for d in dirs:
            locks.enter_context(RunLock(d))
            for root, _, _ in os.walk(d):
                files.remove_stale_temporaries(root)
        term = None
        try:
            term = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        except ValueError:  # not the main thread
            pass
        try:
            return _train(model, runs, steps, resume, checkpoint_every, sample_every, keep, verbose,
                          rounds_per_call)
        finally:
            if term is not None:
                signal.signal(signal.SIGTERM, term)


def _start(model, run, resume):
    """(state, step) a run starts from: its newest checkpoint, or its initial state."""
    ckpt_dir = os.path.join(run.out_dir, "checkpoints")
    latest = checkpoint.load_latest(ckpt_dir)
    if latest and not resume:
        raise RunError(f"{run.out_dir} already holds a run (step {latest[1]['step']}): "
                       "resume it, or choose another folder")
    if not latest:
        return run.initial_state, 0
    path, meta, flat = latest
    if meta.get("weights_only"):
        raise RunError(f"{path} holds weights only: it cannot be resumed")
    defaults = {f.name: f.default for f in dataclasses.fields(model.cfg)} if dataclasses.is_dataclass(model.cfg) else {}
    check_resumable(meta, {k: v for k, v in run.meta["config"].items() if k != "steps"}, defaults)
    print(f"resuming {run.out_dir} from {path} at step {meta['step']}")
    return checkpoint.unflatten(flat, run.initial_state), meta["step"]


def _train(model, runs, steps, resume, checkpoint_every, sample_every, keep, verbose, rounds_per_call):
    count = len(runs)
    starts = [_start(model, run, resume) for run in runs]
    start_step = starts[0][1]
    if any(step != start_step for _, step in starts):
        raise RunError("runs batched into one program must start at the same step, and these are at steps "
                       + ", ".join(f"{step} ({run.out_dir})" for run, (_, step) in zip(runs, starts))
                       + ": train them one per program")
    state = stack_runs([s for s, _ in starts])
    metas = [{**run.meta, "runs_in_program": count} for run in runs]
    fixed = [fixed_inputs(run.out_dir, run.test_images, model.latent_dim, run.meta["seed"]) for run in runs]
    logs = [Logs(run.out_dir, _loss_columns(model), start_step) for run in runs]
    inference = Inference(model)
    per_round = model.steps_per_round
    first_round, last_round = start_step // per_round, -(-steps // per_round)
    spans = round_spans(first_round, last_round, rounds_per_call)
    sampler = BatchedSampler([run.sampler for run in runs])
    bar = Progbar(last_round * per_round, verbose=verbose, unit_name="step")
    steps_now = [start_step] * count
    saved_step = start_step
    t0 = time.time()

    def save_checkpoints(on_host=None):
        if on_host is None:
            on_host = unstack_runs(engine.to_numpy(state), count)
        for run, log, meta, own, step in zip(runs, logs, metas, on_host, steps_now):
            log.flush(sync=True)  # the log reaches every checkpoint's step
            checkpoint.save(os.path.join(run.out_dir, "checkpoints"), step, own, meta, keep=keep)

    try:
        calls = sampler.prefetch(first_round, last_round, place=model.place_batches, spans=spans)
        for (r0, r1), (imgs, zs) in zip(spans, calls):
            new_state, losses, good = model.train_rounds_batched(state, imgs, zs)
            losses, good = engine.to_numpy((losses, good))
            state = new_state  # a run whose round went bad kept its last good round's state
            first_step, bad = steps_now[0] + 1, []
            means = {}
            for i, log in enumerate(logs):
                for j in range(r1 - r0):
                    row = {"step": (r0 + j + 1) * per_round,
                           **_summarise(model, {k: v[i, j] for k, v in losses.items()}),
                           "seconds": time.time() - t0}
                    if not good[i, j] or not all(np.isfinite(v) for v in row.values()):
                        bad.append(f"{runs[i].out_dir} at step {row['step']}")
                        break
                    log.write(row)
                    steps_now[i] = row["step"]
                    for k, v in row.items():
                        means.setdefault(k, []).append(v)
            if bad:
                raise NonFiniteError(f"a loss or weight became NaN or infinite in {'; '.join(bad)}; every run "
                                     "was saved at its last good state")
            step = steps_now[0]
            last = step >= last_round * per_round
            bar.update(step, values=[(k, float(np.mean(v))) for k, v in means.items()
                                     if k not in ("step", "seconds")][:4])
            checkpoint_now = at_boundary(first_step, step, checkpoint_every) or last
            grids_now = at_boundary(first_step, step, sample_every) or last
            on_host = unstack_runs(engine.to_numpy(state), count) if checkpoint_now or grids_now else None
            if checkpoint_now:
                save_checkpoints(on_host)
                saved_step = step
            if grids_now:
                for run, own, (fixed_images, fixed_z) in zip(runs, on_host, fixed):
                    save_grids(inference, own, run.out_dir, step, fixed_images, fixed_z, run.meta["seed"],
                               model.grids)
    except KeyboardInterrupt:
        try:
            if max(steps_now) > saved_step:
                save_checkpoints()
            for log in logs:
                log.close()
        except OSError as error:
            raise _disk_error(error, os.path.join(runs[0].out_dir, "checkpoints")) from None
        print(f"\ninterrupted at step {max(steps_now)}; every run's checkpoint written. Continue with the "
              "same command", flush=True)
        raise SystemExit(130) from None
    except Exception as error:
        if max(steps_now) > saved_step:  # keep every run's last good state before the error surfaces
            try:
                save_checkpoints()
            except OSError:
                pass
        if isinstance(error, OSError):
            raise _disk_error(error, os.path.join(runs[0].out_dir, "checkpoints")) from None
        for log in logs:
            log.close()
        raise
    try:
        for log in logs:
            log.close()
    except OSError as error:
        raise _disk_error(error, os.path.join(runs[0].out_dir, "checkpoints")) from None
    return unstack_runs(engine.to_numpy(state), count), steps_now[0]
