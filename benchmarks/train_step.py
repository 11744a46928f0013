"""Training speed of GAN, AAE, AEGAN and O-GAN on the current backend: compile time, ms/step,
FLOPs, TFLOP/s, MFU, and whether the input pipeline keeps up.

    python benchmarks/train_step.py                       # all models, paper and small presets
    KERAS_BACKEND=jax python benchmarks/train_step.py --models aegan --presets paper --peak-tflops 989
    KERAS_BACKEND=jax python benchmarks/train_step.py --precision mixed_bfloat16 --devices 8
    KERAS_BACKEND=jax python benchmarks/train_step.py --models aegan --profile results/profile
    python benchmarks/train_step.py --models aegan --presets paper --cpu-compile both   # TF on CPU
    KERAS_BACKEND=jax python benchmarks/train_step.py --models aegan --presets paper --round unrolled,looped,per-update

`--round` times the round as one program with every update unrolled (`unrolled`), as one
program with each repeated update one loop body (`looped`), or as one program per kind of
update (`per-update`, what short runs train), the round programs of common/model.py.
Under TensorFlow on a CPU each model is timed with XLA and as a TF graph without it
(`--cpu-compile both`, the default there: training chooses between them by measuring,
common/cpu_compile.py), and the CPU's model is printed.

An AEGAN-family step is a quarter of a round (the authors' count); an O-GAN step is one
iteration (one joint E and G update), at O-GAN's own presets (paper: 128x128, batch 64). Warm-up (compilation and the first
round) is excluded from the timing and printed apart. FLOPs per round are counted two ways:
"model" FLOPs from the networks' convolution and dense layers (multiply-add = 2 FLOPs; a
backward pass = 2x the forward) for the calls one round makes, which compare across backends
and machines, and, under JAX, XLA's own count of the compiled round (every operation).
TFLOP/s and MFU (given the device's peak, per device) use the model count. The input
pipeline (sampling a round's batches from uint8 images and copying them to the device) is
timed alone and printed as a multiple of what the step consumes.
Prints figures; asserts nothing.
"""

import argparse
import contextlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from common import cpu_compile, engine
from common.data import RoundSampler
from common.model import ROUND_PROGRAMS
from runs import registry


def pipeline_rounds_per_second(model, cfg, rounds=20):
    """Rounds/s of the input pipeline alone: batches sampled from uint8 images, placed on the device(s)."""
    rng = np.random.default_rng(0)
    r = cfg.resolution
    images = rng.integers(0, 256, (2048, r, r, 3), dtype=np.uint8)
    sampler = RoundSampler(images, cfg.batch_size, model.images_per_round, model.latents_per_round,
                           model.latent_dim, seed=0, mirror=cfg.mirror)
    engine.to_numpy(model.place_batches(sampler.round(0)))
    t = time.perf_counter()
    for i in range(1, rounds + 1):
        placed = model.place_batches(sampler.round(i))
    engine.to_numpy(placed[1])  # the copies are asynchronous: wait for the last
    return rounds / (time.perf_counter() - t)


def bench(name, preset, rounds, ways=("unrolled",), peak_tflops=None, precision="float32", devices=1,
          profile=None, compile_mode="both"):
    engine.set_random_seed(0)
    cfg = registry.get(name).make_config(preset, precision=precision)
    model = registry.build(cfg)
    devices = model.use_devices(devices)
    modes = ("xla", "graph") if compile_mode == "both" else (compile_mode,)
    for way in ways:
        model.set_round_program(way)  # as a long run's round (fused: the training loop's 200+ rounds)
        for mode in modes if cpu_compile.applies(model) else (None,):
            label = f", {way}"
            if mode:
                model.forget_programs()
                model.set_compile_mode(mode == "xla")
                label += f", {'XLA' if mode == 'xla' else 'TF graph without XLA'} on {cpu_compile.cpu_name()}"
            _time(model, name, preset, cfg, rounds, peak_tflops, precision, devices, profile, label)


def _time(model, name, preset, cfg, rounds, peak_tflops, precision, devices, profile, label):
    state = model.initial_state()
    rng = np.random.default_rng(0)
    b, r = cfg.batch_size, cfg.resolution
    imgs = rng.uniform(-1, 1, (model.images_per_round, b, r, r, 3)).astype(np.float32)
    zs = rng.standard_normal((model.latents_per_round, b, model.latent_dim)).astype(np.float32)
    xla_flops = engine.program_flops(model._checked_round, state, imgs, zs) if devices == 1 else None
    imgs, zs = model.place_batches((imgs, zs))
    round_fn = model.train_round  # as a long run's round: its round program decides
    print(f"{name} {preset}: compiling and running the first round{label} ...", flush=True)
    t = time.perf_counter()
    state, losses, _ = round_fn(state, imgs, zs)
    engine.to_numpy(losses)
    warmup = time.perf_counter() - t
    tracing = engine.profile(os.path.join(profile, f"{name}-{preset}")) if profile else contextlib.nullcontext()
    with tracing:
        t = time.perf_counter()
        for _ in range(rounds):
            state, losses, _ = round_fn(state, imgs, zs)
        engine.to_numpy(losses)
    steps = model.steps_per_round
    per_round = (time.perf_counter() - t) / rounds  # with --profile, the tracing's cost included
    per_step = per_round / steps
    flops = model.round_flops() or xla_flops
    counted = "model" if model.round_calls else "XLA"
    tflops = flops / per_round / 1e12 if flops else 0.0
    mfu = (f", MFU {tflops / (peak_tflops * devices):.1%} (peak {peak_tflops:g} TFLOP/s x {devices})"
           if peak_tflops else "")
    xla = f", XLA's count {xla_flops / 1e9:.3g} G" if xla_flops else ""
    pipeline = pipeline_rounds_per_second(model, cfg)
    print(f"{name} {preset}: {per_step * 1e3:.1f} ms/step ({1 / per_step:.2f} steps/s), "
          f"{tflops:.3f} TFLOP/s{mfu} [{counted} FLOPs {(flops or 0) / 1e9:.3g} G per round of {steps} steps{xla}; "
          f"first round incl. compile {warmup:.1f} s; input pipeline {pipeline:.0f} rounds/s = "
          f"{pipeline * per_round:.0f}x the step's need; batch {b}, {r}x{r}, {precision}, "
          f"{keras.backend.backend()} on {devices} device{'s' if devices > 1 else ''} "
          f"({engine.device_names()[0]}), "
          f"{'one program per round' if devices > 1 else model.round_program + ' round'}{label}]",
          flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(registry.names(in_benchmark=True)),
                   help=f"comma-separated, of {', '.join(registry.names())}")
    p.add_argument("--presets", default="paper,small")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per model")
    p.add_argument("--round", default="unrolled",
                   help="comma-separated, of unrolled (one program, as long runs train on a CPU), looped (one "
                        "program, each repeated update one loop body) and per-update (one program per update)")
    p.add_argument("--peak-tflops", type=float,
                   help="one device's peak (e.g. 989 for an H100 SXM in dense bfloat16): prints MFU")
    p.add_argument("--precision", default="float32", help="float32, mixed_bfloat16 or mixed_float16")
    p.add_argument("--devices", type=int, default=1, help="data parallel over this many devices")
    p.add_argument("--cpu-compile", default="both", choices=("both", "xla", "graph"),
                   help="TensorFlow on a CPU: time XLA, a TF graph without it, or both (default)")
    p.add_argument("--profile", help="folder: a trace of the timed rounds per model, for TensorBoard's profile tab")
    args = p.parse_args()
    ways = args.round.split(",")
    unknown = [w for w in ways if w not in ROUND_PROGRAMS]
    if unknown:
        p.error(f"--round {','.join(unknown)}: expected of {', '.join(ROUND_PROGRAMS)}")
    for preset in args.presets.split(","):
        for name in args.models.split(","):
            bench(name, preset, args.rounds, ways, args.peak_tflops, args.precision, args.devices, args.profile,
                  args.cpu_compile)


if __name__ == "__main__":
    main()
