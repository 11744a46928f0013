"""Runs in its own process (tests/test_round_programs.py; JAX's float64 switch is process-wide):
one round of each named model computed three ways from the same state and batches, in float64:
unrolled, looped and per-update (`round_program`, each as a long run's round). Prints one
JSON object: per model, the largest relative difference of each way from the unrolled round
(every weight, statistic, optimizer slot and loss), and how many loops each fused program traced.

    python tests/round_programs_check.py aegan gan
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from aegan.config import make_config
from common import engine
from runs import registry


def largest_difference(a, b):
    worst = 0.0
    for x, y in zip(keras.tree.flatten(a), keras.tree.flatten(b), strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-6))))
    return worst


def compare(name):
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("tiny", model=name, architecture="mlp", hidden_units=16, mirror=False,
                                       precision="float64"))
    c, rng = model.cfg, np.random.default_rng(0)
    images = rng.uniform(-1, 1, (model.images_per_round, c.batch_size, 2))
    latents = rng.standard_normal((model.latents_per_round, c.batch_size, model.latent_dim))
    loops, scan = [], engine.scan

    def counting_scan(*args):
        loops[-1] += 1
        return scan(*args)

    engine.scan = counting_scan
    results = {}
    for way, kind, fused in (("unrolled", "unrolled", True), ("looped", "looped", True),
                             ("per update", "per-update", True)):
        model.set_round_program(kind)
        loops.append(0)
        new_state, losses, finite = engine.to_numpy(model.train_round(model.initial_state(), images, latents, fused))
        assert bool(finite), way
        results[way] = (new_state, losses)
    engine.scan = scan
    return {"looped": largest_difference(results["unrolled"], results["looped"]),
            "per update": largest_difference(results["unrolled"], results["per update"]),
            "loops traced": dict(zip(("unrolled", "looped", "per update"), loops))}


if __name__ == "__main__":
    print(json.dumps({name: compare(name) for name in sys.argv[1:]}))
