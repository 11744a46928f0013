"""One training loop for every model and for several runs batched into one program: rounds,
progress, logs, grids, checkpoints, resume, and what a fault or an interrupt keeps.

It knows a model only through its round programs (`train_round`, `train_rounds`, each
compiled by the model), `generate`, optional `encode`, and how many image and z batches a
round draws. What it writes in a run folder is common/run_folder.py's.
"""

import contextlib
import os
import sys
import time

import numpy as np
from keras.utils import Progbar

from common import UserError, checkpoint, cpu_compile, engine
from common.batched_runs import BatchedSampler, Run, stack_runs, unstack_runs
from common.inference import Inference
from common.model import ROUND_PROGRAMS
from common.run_folder import (Logs, NoLogs, RunError, disk_error, fixed_inputs, prepared, resume_point,
                               save_grids)

# Rounds a run must have in all (not left: a resumed run computes as an unbroken one) for its
# round to be compiled as one program. Measured on the
# 2-core CPU (benchmarks/train_step.py --round unrolled,per-update): the fused AEGAN round at the small
# preset runs 472 against 1047 ms but compiles in 100 against 29 s, so it pays back after
# about 120 rounds (tiny: about 250).
FUSE_MIN_ROUNDS = 200


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


class NonFiniteError(RunError):
    """A loss or weight became NaN or infinite; the message names the step and the loss."""


def round_spans(first_round, last_round, rounds_per_call):
    """Rounds first..last-1 as (first, last) spans of rounds_per_call rounds, aligned to multiples
    of it from round 0 (a resumed run makes the same calls), each one program (PureModel.train_rounds)."""
    edges = sorted({first_round, last_round,
                    *range(-(-first_round // rounds_per_call) * rounds_per_call, last_round, rounds_per_call)})
    return list(zip(edges[:-1], edges[1:]))


def at_boundary(first_step, last_step, every):
    """Whether a multiple of `every` lies in the steps first_step..last_step (inclusive)."""
    return last_step // every > (first_step - 1) // every


# Under JAX on a CPU, a long run's round is one program per kind of update (round program
# "per-update") where a round has at least this many model FLOPs (PureModel.round_flops), and one
# unrolled program below. Measured on a 2-core AMD EPYC without AVX-512 (docs/performance.md,
# "Round programs"): at the AEGAN paper config (1,765 GFLOP a round) the per-update programs ran
# 11.9 s/step against 12.8 unrolled, and a restart loads them in seconds where the unrolled
# round's program takes 45 s to load; at the small preset (54 GFLOP) the unrolled round ran
# 311 ms/step against 407.
PER_UPDATE_MIN_FLOPS = 1e12


def choose_round_program(requested="auto", recorded=None, round_flops=None):
    """How a long run's round runs (PureModel.round_program): as requested ("unrolled",
    "looped" or "per-update"); for "auto", as the resumed run recorded, else "looped" on a GPU or
    TPU, and on a CPU "per-update" under JAX for a round of PER_UPDATE_MIN_FLOPS model FLOPs or
    more (`round_flops`), else "unrolled".

    On a CPU the unrolled round runs far faster than the looped one (the tiny AEGAN's 2.7x;
    XLA:CPU runs convolutions in a loop body far off its fast path). Where a round's updates are
    large, one program per update runs as fast, and XLA:CPU loads small programs from the cache in
    seconds, a big one in tens of seconds. On an accelerator a loop costs a few kernel launches
    (microseconds) against milliseconds of work per update, and the looped AEGAN round compiles
    in 0.41x the time (docs/performance.md, "Round programs")."""
    if requested not in ("auto", *ROUND_PROGRAMS):
        raise UserError(f"round program {requested!r}: expected auto, {', '.join(ROUND_PROGRAMS)}")
    if requested != "auto":
        return requested
    if recorded in ROUND_PROGRAMS:
        return recorded
    if engine.on_accelerator():
        return "looped"
    if engine.BACKEND == "jax" and round_flops is not None and round_flops >= PER_UPDATE_MIN_FLOPS:
        return "per-update"
    return "unrolled"


class _Termination:
    """SIGTERM's handler. Outside the rounds it raises KeyboardInterrupt at once. During them it
    marks the request, and the loop stops after the program in flight (`requested`): an
    exception raised wherever the main thread happens to be can land inside a library's own code
    and be lost there (a SIGTERM during a per-update JAX round was lost so, and the run trained on)."""

    in_rounds = False
    requested = False

    def __call__(self, signum, frame):
        if not self.in_rounds:
            raise KeyboardInterrupt
        self.requested = True


_termination = _Termination()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops the run as KeyboardInterrupt does (a checkpoint is written), where this is
    the main thread (`_Termination`)."""
    import signal

    term = None
    _termination.in_rounds = _termination.requested = False
    try:
        term = signal.signal(signal.SIGTERM, _termination)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        pass
    try:
        yield
    finally:
        if term is not None:
            signal.signal(signal.SIGTERM, term)


@contextlib.contextmanager
def _rounds():
    """While the loop trains: a SIGTERM stops it after the program in flight (`_Termination`)."""
    _termination.in_rounds = True
    try:
        yield
    finally:
        _termination.in_rounds = False


def train(model, sampler, test_images, out_dir, meta, steps, resume=False,
          checkpoint_every=1000, sample_every=1000, keep=3, verbose=1, skip_nonfinite=False,
          cpu_compile_mode="auto", cache_dir=None, rounds_per_call=1, round_program="auto"):
    """Train `model` to `steps` steps (rounds of model.steps_per_round), writing under out_dir.
    Returns (state, the step reached).

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
    if rounds_per_call > 1 and skip_nonfinite:
        raise RunError("--skip-nonfinite drops single rounds: it needs one round per call")
    if rounds_per_call > 1 and model.data_parallel:
        raise RunError("several rounds per call run on one device: train on several with one round per call")
    writes = engine.process_index() == 0
    with prepared([out_dir] if writes else []), _sigterm_as_interrupt():
        loop = _Loop(model, [Run(sampler, test_images, out_dir, meta)], steps, resume,
                     verbose, batched=False, writes=writes, skip_nonfinite=skip_nonfinite)
        loop.choose_programs(round_program, cpu_compile_mode, cache_dir, rounds_per_call)
        state, step = loop.run(checkpoint_every, sample_every, keep, rounds_per_call)
        return state[0], step


def train_batched(model, runs, steps, resume=False, checkpoint_every=1000, sample_every=1000, keep=3, verbose=1,
                  rounds_per_call=100):
    """Train the runs (a list of common.batched_runs.Run) of `model` to `steps` steps as one
    program per span of rounds_per_call rounds (PureModel.train_rounds, batched). Returns (their
    states, the step reached).

    The runs resume together: each from its own newest checkpoint, all at the same step. Ctrl-C or
    SIGTERM writes every run's checkpoint and exits. A round that turns a run's loss or weight
    NaN or infinite stops the training: every run is saved at its last good state (the others at
    the end of the span) and the error names the runs.
    """
    if engine.process_count() > 1 or model.data_parallel:
        raise RunError("several runs in one program train on one device, in one process")
    dirs = [run.out_dir for run in runs]
    if len(set(map(os.path.abspath, dirs))) != len(dirs):
        raise RunError(f"each run needs a folder of its own, not {', '.join(dirs)}")
    with prepared(dirs), _sigterm_as_interrupt():
        loop = _Loop(model, runs, steps, resume, verbose, batched=True, writes=True)
        model.report_programs = bool(verbose)
        return loop.run(checkpoint_every, sample_every, keep, rounds_per_call)


class _Loop:
    """One call of train or train_batched: its runs (one, or several batched into one program),
    the step each has reached, its logs and what it has saved."""

    def __init__(self, model, runs, steps, resume, verbose, batched, writes, skip_nonfinite=False):
        self.model, self.runs, self.batched, self.writes = model, runs, batched, writes
        self.verbose, self.skip_nonfinite, self.skipped = verbose if writes else 0, skip_nonfinite, 0
        starts = [resume_point(model, run.out_dir, run.meta["config"], resume, run.initial_state) for run in runs]
        start_step = starts[0][1]
        if any(step != start_step for _, step, _ in starts):
            raise RunError("runs batched into one program must start at the same step, and these are at steps "
                           + ", ".join(f"{step} ({run.out_dir})" for run, (_, step, _) in zip(runs, starts))
                           + ": train them one per program")
        engine.check_same_on_every_process(
            np.array([start_step], np.int32), "the processes would start from different steps: every process "
            f"must read the same run folder {runs[0].out_dir} (a filesystem they share) to resume")
        self.recorded = starts[0][2]
        self.state = stack_runs([s for s, _, _ in starts]) if batched else starts[0][0]
        self.metas = [{**run.meta, "runs_in_program": len(runs)} if batched else run.meta for run in runs]
        self.steps_now, self.saved_step = [start_step] * len(runs), start_step
        self.first_round = start_step // model.steps_per_round
        self.last_round = -(-steps // model.steps_per_round)
        self.fused = False
        if writes:
            self.fixed = [fixed_inputs(run.out_dir, run.test_images, model.latent_dim, run.meta["seed"]) for run in runs]
            self.logs = [Logs(run.out_dir, _loss_columns(model), start_step) for run in runs]
            self.inference = Inference(model)
        else:
            self.logs = [NoLogs()]

    def choose_programs(self, round_program, cpu_compile_mode, cache_dir, rounds_per_call):
        """A single run's round: fused or one program per update, its round program, and on a CPU
        under TensorFlow XLA or a graph; each recorded in its checkpoints."""
        model = self.model
        self.fused = self.last_round >= FUSE_MIN_ROUNDS  # not rounds left: a resumed run computes as an unbroken one
        model.set_round_program(choose_round_program(round_program, self.recorded.get("round_program"),
                                                     model.round_flops()))
        model.report_programs = bool(self.verbose)
        self.metas = [{**meta, "round_program": model.round_program} for meta in self.metas]
        if self.first_round < self.last_round and cpu_compile.applies(model):
            batches = model.place_batches(self.runs[0].sampler.round(self.first_round))
            print(cpu_compile.choose(model, self.state, batches, self.fused, cpu_compile_mode, cache_dir,
                                     self.recorded.get("cpu_compile"), rounds_per_call), flush=True)
            self.metas = [{**meta, "cpu_compile": "xla" if model.xla_on_cpu else "graph"} for meta in self.metas]

    def run(self, checkpoint_every, sample_every, keep, rounds_per_call):
        """Train to the last round; returns (every run's state, the step reached)."""
        spans = round_spans(self.first_round, self.last_round, rounds_per_call) if self.batched or rounds_per_call > 1 else None
        sampler = BatchedSampler([run.sampler for run in self.runs]) if self.batched else self.runs[0].sampler
        bar = Progbar(self.last_round * self.model.steps_per_round, verbose=self.verbose, unit_name="step")
        self.t0, started, self.keep = time.time(), time.perf_counter(), keep
        try:
            calls = sampler.prefetch(self.first_round, self.last_round, place=self.model.place_batches, spans=spans)
            starts = (a for a, _ in spans) if spans else range(self.first_round, self.last_round)
            with _rounds():
                for i, (r0, (imgs, zs)) in enumerate(zip(starts, calls)):
                    first_step = self.steps_now[0] + 1
                    shown = self._log(r0, *self._call(imgs, zs, spans is not None), kept_by_program=spans is not None)
                    if i == 0 and self.verbose:  # where a slow start spends its time
                        print(f"first {'call' if spans else 'round'} done in {time.perf_counter() - started:.1f} s "
                              "(its programs' tracing and compiling or loading included)", flush=True)
                    bar.update(self.steps_now[0], values=shown)
                    self._write(first_step, checkpoint_every, sample_every)
                    if _termination.requested:
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            self._interrupted()
        except Exception as error:
            self._failed(error)
        try:
            self._close_logs()
        except OSError as error:
            raise self._disk_error(error) from None
        return self._states(on_host=self.batched), self.steps_now[0]

    def _call(self, imgs, zs, spans):
        """One program's rounds: (the new state, per run a list of (losses, finite) per round)."""
        model = self.model
        if self.batched:
            new_state, losses, good = model.train_rounds(self.state, imgs, zs, batched=True)
            losses, good = engine.to_numpy((losses, good))  # the state stays on the device
            return new_state, [[({k: v[i, j] for k, v in losses.items()}, g) for j, g in enumerate(run)]
                               for i, run in enumerate(good)]
        if spans:
            new_state, losses, good = model.train_rounds(self.state, imgs, zs)
            losses, good = engine.to_numpy((losses, good))
            return new_state, [[({k: v[j] for k, v in losses.items()}, g) for j, g in enumerate(good)]]
        new_state, losses, finite = model.train_round(self.state, imgs, zs, self.fused)
        return new_state, [[engine.to_numpy((losses, finite))]]

    def _log(self, r0, new_state, results, kept_by_program):
        """Log every run's rounds of a call and keep the new state, stopping at a non-finite round
        (or, skipping, dropping it); returns the last round's mean figures over the runs, for the bar.
        A program of several rounds keeps each run's last good round's state itself."""
        bad, shown, dropped = [], {}, False
        for i, rounds in enumerate(results):
            for j, (losses, finite) in enumerate(rounds):
                row = {"step": (r0 + j + 1) * self.model.steps_per_round, **_summarise(self.model, losses),
                       "seconds": time.time() - self.t0}
                named = [k for k, v in row.items() if not np.isfinite(v)] or ([] if bool(finite) else ["a weight"])
                if named and not self.skip_nonfinite:
                    bad.append((i, row["step"], named))
                    break
                if named:
                    dropped, self.skipped = True, self.skipped + 1
                    print(f"\nstep {row['step']}: {', '.join(named)} became NaN or infinite; update dropped "
                          f"({self.skipped} so far)", file=sys.stderr)
                else:
                    self.logs[i].write(row)
                    if j == len(rounds) - 1:
                        for k, v in row.items():
                            shown.setdefault(k, []).append(v)
                self.steps_now[i] = row["step"]
        if kept_by_program or not (bad or dropped):
            self.state = new_state
        if bad:
            raise NonFiniteError(self._non_finite(bad))
        return [(k, float(np.mean(v))) for k, v in shown.items() if k not in ("step", "seconds")][:4]

    def _non_finite(self, bad):
        if self.batched:
            return ("a loss or weight became NaN or infinite in "
                    + "; ".join(f"{self.runs[i].out_dir} at step {step}" for i, step, _ in bad)
                    + "; every run was saved at its last good state")
        _, step, named = bad[0]
        return (f"step {step}: {', '.join(named)} became NaN or infinite; stopped at the last good state (step "
                f"{self.steps_now[0]}). Continue with --resume, or add --skip-nonfinite to drop such updates")

    def _write(self, first_step, checkpoint_every, sample_every):
        """The checkpoints and grids due after a call that went from first_step to the step now."""
        step = self.steps_now[0]
        last = step >= self.last_round * self.model.steps_per_round
        checkpoint_now = at_boundary(first_step, step, checkpoint_every) or last
        grids_now = self.writes and (at_boundary(first_step, step, sample_every) or last)
        # Batched runs are saved from a host copy, unstacked; over several processes the state spans
        # them all, so the grids are drawn from a host copy too.
        on_host = None
        if (self.batched and (checkpoint_now or grids_now)) or (grids_now and engine.process_count() > 1):
            on_host = self._states(on_host=True)
        if checkpoint_now:
            self._save(on_host)
            self.saved_step = step
        if grids_now:
            for run, own, (fixed_images, fixed_z) in zip(self.runs, on_host or [self.state], self.fixed):
                save_grids(self.inference, own, run.out_dir, step, fixed_images, fixed_z, run.meta["seed"],
                           self.model.grids)

    def _states(self, on_host=False):
        """Every run's own state (batched runs unstacked), on the host where asked."""
        if self.batched:
            return unstack_runs(engine.to_numpy(self.state), len(self.runs))
        return [engine.to_numpy(self.state) if on_host else self.state]

    def _save(self, states=None):
        """Every run's checkpoint at the step it has reached (the first process's work); returns
        the last one's path."""
        if not self.writes:
            return None
        path = None
        for run, log, meta, own, step in zip(self.runs, self.logs, self.metas, states or self._states(), self.steps_now):
            log.flush(sync=True)  # the log reaches every checkpoint's step
            path = checkpoint.save(os.path.join(run.out_dir, "checkpoints"), step, own, meta, keep=self.keep)
        return path

    def _interrupted(self):
        """Ctrl-C or SIGTERM: every run's checkpoint of its last finished round, then exit 130."""
        step = max(self.steps_now)
        try:
            if step > self.saved_step:
                self._save()
            self._close_logs()
        except OSError as error:
            raise self._disk_error(error) from None
        if self.writes:
            what, how = ("every run's checkpoint", "") if self.batched else ("checkpoint", " plus --resume")
            print(f"\ninterrupted at step {step}; {what} written. Continue with the same command{how}.",
                  file=sys.stderr)
        raise SystemExit(130) from None

    def _failed(self, error):
        """Any other error: the last good state is kept before the error surfaces."""
        if max(self.steps_now) > self.saved_step:
            try:
                path = self._save()
                if path and not self.batched:
                    print(f"\nerror after step {self.steps_now[0]}; its checkpoint is {path}", file=sys.stderr)
            except OSError:
                pass  # the disk error below says it
        if isinstance(error, OSError):
            raise self._disk_error(error) from None
        self._close_logs()
        raise error

    def _close_logs(self):
        for log in self.logs:
            log.close()

    def _disk_error(self, error):
        return disk_error(error, os.path.join(self.runs[0].out_dir, "checkpoints"))
