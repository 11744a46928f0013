"""Runs in its own process (tests/test_data_parallel.py): 2 simulated CPU devices against 1.

Devices must be set up before the backend starts: JAX takes them from
XLA_FLAGS=--xla_force_host_platform_device_count=2 (set by the test), TensorFlow from two
logical CPU devices (set here). Prints one JSON object of measured differences.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras
import numpy as np

from aegan import config as aegan_config
from runs import registry
from common import engine
from common.checkpoint import flatten
from ogan import config as ogan_config
from ogan.models import OGAN


def _inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    c, d = model.cfg, model.latent_dim
    shape = (c.resolution, c.resolution, 3) if c.architecture == "conv" else (2,)
    imgs = rng.uniform(-1, 1, (model.images_per_round, c.batch_size, *shape)).astype("float32")
    zs = rng.standard_normal((model.latents_per_round, c.batch_size, d)).astype("float32")
    return imgs, zs


def _differences(start, a, b):
    """How far two new states' weights are apart, against how far they moved."""
    s, a, b = flatten(start), flatten(engine.to_numpy(a)), flatten(engine.to_numpy(b))
    keys = [k for k in a if k.startswith("params/")]
    moved = sum(float(np.sum((a[k] - s[k]) ** 2)) for k in keys) ** 0.5
    apart = sum(float(np.sum((a[k] - b[k]) ** 2)) for k in keys) ** 0.5
    return {"weights_apart_relative": apart / moved, "weights_max_abs_apart": max(
        float(np.max(np.abs(a[k] - b[k]))) for k in keys), "moved": moved}


def _losses_apart(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / (np.abs(a) + 1e-6)))


def first_update():
    """AEGAN's generator-and-encoder update (all four networks, LayerNorm in each), once, from
    the same state: 1 device against 2."""
    keras.utils.set_random_seed(0)
    cfg = aegan_config.make_config("tiny", input_noise=0.0, dropout_rate=0.0)
    one, two = registry.build(cfg), registry.build(cfg)
    two.use_devices(2)
    start = one.initial_state()
    imgs, zs = _inputs(one)

    def update(state, imgs, zs):
        return one.update(state, "generator_encoder", one.generator_encoder_loss, (imgs[0], zs[0]))

    a, losses_a = engine.compile_function(update)(start, imgs, zs)
    b, losses_b = two.data_parallel.compile_round(update)(engine.to_numpy(start), imgs, zs)
    return {**_differences(start, a, b), "losses_apart": _losses_apart(losses_a, losses_b)}


def whole_round():
    """A whole fused AEGAN round (12 updates: Dx, Dz, G and E; dense networks): 1 device against 2."""
    keras.utils.set_random_seed(0)
    cfg = aegan_config.make_config("tiny", architecture="mlp", hidden_units=16, input_noise=0.0,
                                   dropout_rate=0.0)
    one, two = registry.build(cfg), registry.build(cfg)
    two.use_devices(2)
    start = one.initial_state()
    imgs, zs = _inputs(one)
    a, losses_a, _ = one.train_round(start, imgs, zs, fused=True)
    b, losses_b, finite = two.train_round(engine.to_numpy(start), *two.place_batches((imgs, zs)))
    return {**_differences(start, a, b), "finite": bool(finite),
            "losses_apart": max(_losses_apart(losses_a[k], losses_b[k]) for k in losses_a)}


def ogan_trains():
    """O-GAN (BatchNorm) on 2 devices: a few rounds, finite, every network moves."""
    keras.utils.set_random_seed(0)
    model = OGAN(ogan_config.make_config("tiny"))
    model.use_devices(2)
    traced, whole_round = [], model._checked_round
    model._checked_round = lambda *args: traced.append(1) or whole_round(*args)
    start = state = model.initial_state()
    history = []
    for r in range(3):
        state, losses, finite = model.train_round(state, *model.place_batches(_inputs(model, r)))
        history.append(engine.to_numpy(losses["generator_encoder"]).tolist())
        if r == 0:
            first_traces = len(traced)  # TensorFlow traces the round once per replica
    state = engine.to_numpy(state)
    moved = {n: any(not np.allclose(a, b) for a, b in zip(start["params"][n], state["params"][n]))
             for n in model.network_names}
    statistics = [np.asarray(b) for b in state["buffers"]["encoder"] if np.asarray(b).dtype.kind == "f"]
    return {"finite": bool(finite) and bool(np.isfinite(history).all()), "moved": moved,
            "statistics_moved": any(not np.allclose(b, 0) and not np.allclose(b, 1) for b in statistics),
            "losses": history, "traced_after_first_round": len(traced) - first_traces}


def ogan_run_resumes():
    """The training loop on 2 devices: 2 steps, then resumed to 4; what it wrote."""
    import tempfile

    import runs

    out = tempfile.mkdtemp()
    images = np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    for steps, resume in ((2, False), (4, True)):
        keras.utils.set_random_seed(0)
        model = OGAN(ogan_config.make_config("tiny", steps=steps))
        model.use_devices(2)
        runs.fit(model, images[:48], images[48:], out, source="random", seed=0, preset="tiny",
                   resume=resume, checkpoint_every=2, sample_every=2, verbose=0)
    with open(os.path.join(out, "losses.csv")) as f:
        steps = [int(line.split(",")[0]) for line in f.readlines()[1:]]
    return {"logged_steps": steps, "checkpoints": sorted(os.listdir(os.path.join(out, "checkpoints"))),
            "grids": sorted(os.listdir(os.path.join(out, "grids")))}


def batch_error():
    """The message for a batch that does not split over the devices."""
    from common import UserError

    try:
        registry.build(aegan_config.make_config("tiny", batch_size=3)).use_devices(2)
    except UserError as e:
        return str(e)
    return None


if __name__ == "__main__":
    default_devices = {f"batch {b}": registry.build(aegan_config.make_config("tiny", batch_size=b)).use_devices()
                       for b in (4, 3)}
    print(json.dumps({"devices": engine.device_names(), "batch_error": batch_error(),
                      "default_devices": default_devices,
                      "first_update": first_update(), "ogan_run": ogan_run_resumes(), "whole_round": whole_round(), "ogan": ogan_trains()}))
