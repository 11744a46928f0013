"""Mixed precision: 16-bit layers, float32 weights, outputs and losses; float16 loss scaling."""

import keras
import numpy as np
import pytest

from aegan.config import make_config
from runs import registry
from common import engine
from common.config import ConfigError
from common.optimizer import LossScale
from ogan.config import make_config as ogan_config
from ogan.models import OGAN


def _inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    c = model.cfg
    shape = (c.resolution, c.resolution, 3) if c.architecture == "conv" else (2,)
    imgs = rng.uniform(-1, 1, (model.images_per_round, c.batch_size, *shape))
    zs = rng.standard_normal((model.latents_per_round, c.batch_size, model.latent_dim))
    return imgs.astype("float32"), zs.astype("float32")


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_layers_compute_in_16_bits_and_outputs_stay_float32(precision):
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("tiny", precision=precision))
    assert keras.config.dtype_policy().name == "float32"  # the global policy is put back
    conv = model.nets["encoder"].get_layer("block0_conv")
    assert conv.compute_dtype == precision.split("_")[1] and conv.variable_dtype == "float32"
    state = model.initial_state()
    x = np.zeros((2, 32, 32, 3), "float32")
    z = np.zeros((2, 8), "float32")

    def outputs(state):  # one program (a graph under TF): JAX compiles every op of an op-by-op call on its own
        return [model.call(state, name, x if name in ("encoder", "discriminator_image") else z, training=True)[0]
                for name in model.network_names]

    for name, out in zip(model.network_names, engine.compile_function(outputs, xla_on_cpu=False)(state)):
        assert keras.backend.standardize_dtype(out.dtype) == "float32", name


def test_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="precision must be one of float32, mixed_bfloat16, mixed_float16"):
        make_config("tiny", precision="float16")


def test_loss_scale_skips_overflow_halves_and_grows():
    scale = LossScale(initial_scale=8.0, growth_steps=2)
    slots = scale.init()
    grads, finite = scale.unscale(slots, [np.array([8.0, 16.0], "float32")])
    np.testing.assert_allclose(engine.to_numpy(grads[0]), [1.0, 2.0])
    assert bool(finite)
    _, finite = scale.unscale(slots, [np.array([np.inf, 1.0], "float32")])
    assert not bool(finite)
    halved = engine.to_numpy(scale.next(slots, finite))
    assert float(halved["scale"]) == 4.0 and float(halved["good_steps"]) == 0
    once = scale.next(slots, np.bool_(True))
    twice = engine.to_numpy(scale.next(once, np.bool_(True)))
    assert float(twice["scale"]) == 16.0 and float(twice["good_steps"]) == 0


def test_float16_step_with_overflowing_gradients_changes_only_the_scale():
    keras.utils.set_random_seed(0)
    model = OGAN(ogan_config("tiny", precision="mixed_float16"))
    model.loss_scale = LossScale(initial_scale=3e38)  # the scaled loss overflows float32
    state = model.initial_state()
    new_state, _, finite = engine.to_numpy(model.train_round(state, *_inputs(model), fused=False))
    assert bool(finite)
    for net in model.network_names:
        for a, b in zip(state["params"][net], new_state["params"][net]):
            np.testing.assert_array_equal(a, b)
    assert float(new_state["loss_scale"]["generator_encoder"]["scale"]) == pytest.approx(1.5e38)
    assert float(new_state["optimizers"]["generator_encoder"]["step"]) == 0


@pytest.mark.parametrize("name", ["aegan", "ogan"])
def test_bfloat16_training_tracks_float32(name):
    # The same start and batches for 3 rounds: every loss (and O-GAN's rho, its last value)
    # stays close, and weights and losses stay float32. (AEGAN on dense networks: seconds.)
    runs = {}
    for precision in ("float32", "mixed_bfloat16"):
        keras.utils.set_random_seed(0)
        model = (OGAN(ogan_config("tiny", precision=precision)) if name == "ogan" else
                 registry.build(make_config("tiny", architecture="mlp", hidden_units=32, precision=precision)))
        state, history = model.initial_state(), []
        for r in range(3):
            state, losses, finite = model.train_round(state, *_inputs(model, r), fused=False)
            losses = engine.to_numpy(losses)
            assert bool(finite) and all(v.dtype == np.float32 for v in losses.values())
            history.append(np.concatenate([v.mean(axis=0) for v in losses.values()]))
        assert all(p.dtype == np.float32 for ps in engine.to_numpy(state["params"]).values() for p in ps)
        runs[precision] = np.array(history)
    np.testing.assert_allclose(runs["mixed_bfloat16"], runs["float32"], rtol=0.1, atol=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("script", ["aegan_anime.py", "ogan_celeba.py"])
def test_float64_trains_in_float64_throughout(script, tmp_path):
    # A process of its own: JAX's float64 switch is process-wide.
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "run"
    result = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", script), "--preset", "tiny",
                             "--steps", "8", "--precision", "float64", "--out", str(out),
                             "--cache-dir", str(tmp_path / "cache")],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    with np.load(out / "checkpoints" / "ckpt-000000008.npz") as f:
        floats = {k: f[k].dtype for k in f.files if f[k].dtype.kind == "f"}
        assert json.loads(str(f["meta"]))["config"]["precision"] == "float64"
    assert floats and set(floats.values()) == {np.dtype("float64")}, floats  # weights, slots, BatchNorm statistics
    with open(out / "losses.jsonl") as f:
        assert len(f.readlines()) == (2 if script == "aegan_anime.py" else 8)
