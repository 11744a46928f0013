"""Rounds per second on the 2-D benchmark: one round per call against several rounds looped
inside one compiled program (PureModel.train_rounds, mode_collapse.py's --rounds-per-call).

    python benchmarks/rounds_2d.py                                   # TensorFlow
    KERAS_BACKEND=jax python benchmarks/rounds_2d.py
    python benchmarks/rounds_2d.py --models aegan,gan --protocols mlp,pacgan --per-call 1,100
    KERAS_BACKEND=jax python benchmarks/rounds_2d.py --models aegan --protocols pacgan --per-call 100 --seeds 1,5,10

A 2-D round is small, so the cost of a call could dominate it; this measures how much looping
rounds inside one program saves (on the 2-core CPU: 1.0-1.8x, README "Speed"). One round per
call is timed as training runs it today (the fused round, 200 rounds or more);
the first call of each (compilation) is excluded and printed apart. The figure is the best
of --repeats timings of --rounds rounds. With --seeds above 1 (JAX), that many seeds' rounds
run as one program (common/batched_runs.py, mode_collapse.py's --seeds-per-program), and the
figures are per seed: a round of every seed counts as that many rounds. Prints figures;
asserts nothing.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from collapse import mixtures
from collapse.protocols import build
from common import data, engine
from common.batched_runs import BatchedSampler, stack_runs
from common.cpu_compile import cpu_name
from runs import registry


def time_rounds(model, sampler, rounds, per_call, repeats, seeds=1):
    """(seconds per round of one seed, seconds for the first call) with `per_call` rounds per call
    and `seeds` seeds batched in one program (then `model` and `sampler` are lists, one per seed)."""
    if seeds > 1:
        state = stack_runs([m.initial_state() for m in model])
        sampler, model = BatchedSampler(sampler), model[0]
        call = lambda s, b: model.train_rounds(s, *b, batched=True)
    else:
        state = model.initial_state()
        call = lambda s, b: model.train_rounds(s, *b)
    if per_call == 1:
        batches = [model.place_batches(sampler.round(r)) for r in range(rounds)]
        call = lambda s, b: model.train_round(s, *b, fused=True)
    else:
        batches = [model.place_batches(sampler.rounds(r, r + per_call)) for r in range(0, rounds, per_call)]
    t = time.perf_counter()
    state = call(state, batches[0])[0]
    engine.to_numpy(state)
    first = time.perf_counter() - t
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for b in batches:
            state = call(state, b)[0]
        engine.to_numpy(state)
        best = min(best, (time.perf_counter() - t) / (len(batches) * per_call * seeds))
    return best, first


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="aegan,gan,aae,ogan")
    p.add_argument("--protocols", default="mlp,pacgan")
    p.add_argument("--per-call", default="1,100", help="rounds per call to compare (1: today's loop)")
    p.add_argument("--rounds", type=int, default=200, help="rounds timed (a multiple of every --per-call)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seeds", default="1", help="seeds per program to compare (JAX above 1; default 1); "
                                                "figures are per seed")
    args = p.parse_args()
    per_calls = [int(k) for k in args.per_call.split(",")]
    seed_counts = [int(n) for n in args.seeds.split(",")]
    if max(seed_counts) > 1 and min(per_calls) == 1:
        p.error("--seeds above 1 batches programs of several rounds: give --per-call above 1")
    print(f"backend {keras.backend.backend()} on {', '.join(engine.device_names())}; CPU: {cpu_name()}")
    print("model  protocol  rounds/call  seeds  ms/round  rounds/s  steps/s  first call (s)  speed-up")
    data_points = mixtures.sample("ring8", 50_000)
    for protocol in args.protocols.split(","):
        for name in args.models.split(","):
            cfg = build(name, "small", 400_000, "ring8", protocol)
            models, samplers = [], []
            for seed in range(max(seed_counts)):
                engine.set_random_seed(seed)
                models.append(registry.build(cfg))
                samplers.append(data.RoundSampler(data_points, cfg.batch_size, models[-1].images_per_round,
                                                  models[-1].latents_per_round, models[-1].latent_dim, seed,
                                                  mirror=False))
            base = None
            for k in per_calls:
                for n in seed_counts:
                    model, sampler = (models[:n], samplers[:n]) if n > 1 else (models[0], samplers[0])
                    seconds, first = time_rounds(model, sampler, args.rounds, k, args.repeats, n)
                    base = base or seconds
                    print(f"{name:6s} {protocol:8s} {k:11d} {n:6d} {1e3 * seconds:9.2f} {1 / seconds:9.0f} "
                          f"{models[0].steps_per_round / seconds:8.0f} {first:15.1f} {base / seconds:8.1f}x",
                          flush=True)


if __name__ == "__main__":
    main()
