"""XLA or a plain TensorFlow graph on CPU, chosen by measuring both on this machine.

Which of the two runs a round faster depends on the CPU: on one 2-core machine XLA's fused
round beat TensorFlow's own (oneDNN) kernels, on another (AMD EPYC, AVX-512) the opposite
held for AEGAN's paper config. So under TensorFlow on a CPU the training loop times a few
rounds of each, after compiling both, keeps the faster, and caches the decision keyed by the
CPU, the library versions and the model's config: later runs skip the trial. GPUs and JAX
always use XLA. The trial rounds are thrown away: training starts from the same state.
"""

import dataclasses
import hashlib
import json
import os
import platform
import time

from common import UserError, engine

MODES = ("auto", "xla", "graph")
CACHE_FILE = "cpu-compile.json"
TRIAL_SECONDS = 20.0  # timed rounds per mode stop after this much time (at least MIN_TRIALS each)
MIN_TRIALS, MAX_TRIALS = 2, 5


def applies(model):
    """Whether there is a choice: TensorFlow on CPU, one device."""
    return engine.BACKEND == "tensorflow" and not engine.on_accelerator() and model.data_parallel is None


def cpu_name():
    """The CPU's model name, and the instruction sets that decide oneDNN's and XLA's kernels."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                if name and flags:
                    break
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    extra = [f for f in wanted if f in flags]
    return f"{name} ({os.cpu_count()} cores{', ' + ' '.join(extra) if extra else ''})"


def _key(model):
    import keras
    import tensorflow as tf

    cfg = dataclasses.asdict(model.cfg) if dataclasses.is_dataclass(model.cfg) else dict(model.cfg)
    cfg.pop("steps", None)
    what = {"cpu": cpu_name(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "model": type(model).__name__, "config": cfg}
    return hashlib.sha1(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16], what


def _read_cache(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def measure(model, state, batches, fused):
    """{mode: {"ms_per_step", "compile_s"}} of a few rounds of each mode from `state`; the model's
    compiled functions are left as the faster mode's."""
    state = engine.to_device(state)  # as the loop's later rounds get it

    def seconds():  # one round, waited for
        t = time.perf_counter()
        engine.to_numpy(model.train_round(state, *batches, fused)[1])
        return time.perf_counter() - t

    found = {}
    model.forget_programs()  # so each mode's first round compiles, and is timed doing so
    for mode in ("xla", "graph"):
        model.set_compile_mode(mode == "xla")
        found[mode] = {"compile_s": seconds(), "rounds": []}
    # Timed alternately, so that a change in the machine's load falls on both.
    start = time.perf_counter()
    while True:
        for mode in ("xla", "graph"):
            model.set_compile_mode(mode == "xla")
            found[mode]["rounds"].append(seconds())
        n = len(found["xla"]["rounds"])
        if n >= MAX_TRIALS or (n >= MIN_TRIALS and time.perf_counter() - start > TRIAL_SECONDS):
            break
    for mode in found:
        found[mode] = {"ms_per_step": 1e3 * min(found[mode].pop("rounds")) / model.steps_per_round,
                       "compile_s": round(found[mode]["compile_s"], 1)}
    best = min(found, key=lambda m: found[m]["ms_per_step"])
    model.set_compile_mode(best == "xla")
    return found


def choose(model, state, batches, fused, mode="auto", cache_dir=None, recorded=None, rounds_per_call=1):
    """Set model.xla_on_cpu for a run and return the line that says what was chosen and why.

    mode: "xla" or "graph" forces it; "auto" takes the run's own earlier choice (`recorded`, from
    its checkpoint: a resumed run computes as the unbroken one did), else the cached decision for
    this CPU, versions and config, else measures both on `state` and `batches` (the trial's
    rounds are discarded). Several rounds per call take XLA without a trial.
    """
    if mode not in MODES:
        raise UserError(f"--cpu-compile must be one of {', '.join(MODES)}, not {mode!r}")
    if not applies(model):
        return None
    if mode != "auto":
        model.set_compile_mode(mode == "xla")
        return f"CPU compile: {_describe(mode)} (forced by --cpu-compile {mode})"
    if recorded in ("xla", "graph"):
        model.set_compile_mode(recorded == "xla")
        return f"CPU compile: {_describe(recorded)}, as this run chose when it started"
    if rounds_per_call > 1:
        model.set_compile_mode(True)
        return (f"CPU compile: {_describe('xla')}, for {rounds_per_call} rounds per call (small dense networks "
                "looped in one program: no trial; --cpu-compile graph forces the other)")
    if not fused:
        default = "xla" if model.xla_on_cpu else "graph"
        return (f"CPU compile: {_describe(default)}, {type(model).__name__}'s default (a run this short "
                "compiles each update apart and is not worth a trial)")
    key, what = _key(model)  # only whole-round programs get here
    path = cache_dir and os.path.join(cache_dir, CACHE_FILE)
    cached = _read_cache(path).get(key) if path else None
    if cached:
        model.set_compile_mode(cached["mode"] == "xla")
        return (f"CPU compile: {_describe(cached['mode'])}, measured faster for this config on this CPU "
                f"({_figures(cached['measured'])}; cached in {path}; --cpu-compile xla|graph forces one)")
    print(f"CPU compile: timing XLA and TensorFlow's graph mode for {type(model).__name__} on "
          f"{what['cpu']} (both compile once; cached for later runs) ...", flush=True)
    measured = measure(model, state, batches, fused)
    chosen = "xla" if model.xla_on_cpu else "graph"
    if path:
        from common.files import write_atomic

        try:
            os.makedirs(cache_dir, exist_ok=True)
            entries = _read_cache(path)
            entries[key] = {"mode": chosen, "measured": measured, **what}
            write_atomic(path, lambda f: f.write(json.dumps(entries, indent=1).encode()))
        except OSError as e:
            print(f"warning: cannot write {path} ({e.strerror or e}); the next run measures again")
    return (f"CPU compile: {_describe(chosen)}, measured faster ({_figures(measured)}; "
            f"--cpu-compile xla|graph forces one)")


def _describe(mode):
    return "XLA" if mode == "xla" else "TensorFlow graph without XLA"


def _figures(measured):
    return ", ".join(f"{'XLA' if m == 'xla' else 'graph'} {v['ms_per_step']:.1f} ms/step, compiled in "
                     f"{v['compile_s']:.0f} s" for m, v in measured.items())
