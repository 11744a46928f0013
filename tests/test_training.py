"""Training on tiny images: every network learns, reconstruction improves, resume is exact."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest

from aegan.config import make_config
from aegan.models import build_model
from common import checkpoint, data, engine, loop


def _model(name, **overrides):
    keras.utils.set_random_seed(0)
    return build_model(make_config("tiny", model=name, **overrides))


def _batch(model, seed=0):
    rng = np.random.default_rng(seed)
    c = model.cfg
    imgs = rng.uniform(-1, 1, (model.images_per_round, c.batch_size, c.resolution, c.resolution, 3))
    zs = rng.standard_normal((model.latents_per_round, c.batch_size, c.latent_dim))
    return imgs.astype("float32"), zs.astype("float32")


@pytest.mark.parametrize("name", ["aegan", "gan", "aae"])
def test_every_trained_network_changes(name):
    model = _model(name)
    start = model.initial_state()
    state, losses = model.round(start, *_batch(model))
    for net in model.network_names:
        assert any(not np.allclose(a, b) for a, b in zip(start["params"][net], state["params"][net])), net
    for group, names in model.loss_names.items():
        values = engine.to_numpy(losses[group])
        assert values.shape == (4, len(names)) and np.isfinite(values).all()


def test_aegan_reconstruction_loss_falls():
    model = _model("aegan", generator_encoder_lr=2e-3)  # 10x the paper's: a clear signal in seconds
    round_fn = model.round
    state = model.initial_state()
    digits = data.to_float(data.digits_images(32)[:64])
    rng = np.random.default_rng(0)
    history = []
    for r in range(20):
        imgs = digits[rng.integers(0, 64, (8, 4))]
        zs = rng.standard_normal((8, 4, 8)).astype("float32")
        state, losses = round_fn(state, imgs, zs)
        history.append(engine.to_numpy(losses["generator_encoder"])[:, 1].mean())
    assert np.mean(history[-3:]) < 0.75 * np.mean(history[:3]), history


def test_noise_layers_are_active_in_training_and_off_in_inference():
    model = _model("aegan")
    state = model.initial_state()
    x = np.zeros((2, 32, 32, 3), "float32")
    a, s1 = model.call(state, "encoder", x, training=True)
    b, _ = model.call(s1, "encoder", x, training=True)
    assert not np.allclose(np.asarray(a), np.asarray(b))  # seeds advance between calls
    np.testing.assert_array_equal(np.asarray(model.encode(state, x)), np.asarray(model.encode(s1, x)))


def _run(out, steps, resume=False):
    model = _model("aegan", batch_size=4)
    images = data.digits_images(32)[:200]
    train, test = data.split(images)
    sampler = data.RoundSampler(train, 4, model.images_per_round, model.latents_per_round, 8, seed=3)
    meta = {"config": dataclasses.asdict(model.cfg), "seed": 3}
    state, _ = loop.train(model, sampler, test, str(out), meta, steps, resume=resume,
                          checkpoint_every=8, sample_every=1000, verbose=0)
    return state


def _rows(out):
    with open(os.path.join(out, "losses.jsonl")) as f:
        return [json.loads(l) for l in f]


def test_resume_gives_the_same_next_losses_and_weights(tmp_path):
    straight = _run(tmp_path / "straight", 16)
    _run(tmp_path / "stopped", 8)
    resumed = _run(tmp_path / "stopped", 16, resume=True)
    a, b = _rows(tmp_path / "straight"), _rows(tmp_path / "stopped")
    assert [r["step"] for r in b] == [4, 8, 12, 16]  # no duplicated or missing steps
    for ra, rb in zip(a, b):
        for k in ra:
            if k != "seconds":
                assert ra[k] == pytest.approx(rb[k], rel=1e-5, abs=1e-6), (ra["step"], k)
    for x, y in zip(checkpoint.flatten(straight).values(), checkpoint.flatten(resumed).values()):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)
    assert os.path.exists(tmp_path / "stopped" / "grids" / "samples_fixed_000000016.png")


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    _run(tmp_path / "run", 4)
    with pytest.raises(loop.RunError, match="--resume"):
        _run(tmp_path / "run", 8)


def test_resume_refuses_other_settings(tmp_path):
    _run(tmp_path / "run", 4)
    _, meta, flat = checkpoint.load_latest(str(tmp_path / "run" / "checkpoints"))
    with pytest.raises(loop.RunError, match="latent_dim"):
        loop.check_resumable(meta, {"latent_dim": 16})


def test_damaged_latest_checkpoint_falls_back(tmp_path, capsys):
    state = {"params": {"g": [np.ones(3, "float32")]}}
    d = str(tmp_path)
    checkpoint.save(d, 4, state, {"config": {}})
    latest = checkpoint.save(d, 8, state, {"config": {}})
    with open(latest, "r+b") as f:
        f.truncate(100)
    path, meta, _ = checkpoint.load_latest(d)
    assert meta["step"] == 4 and "trying an older one" in capsys.readouterr().err


def test_an_error_after_a_step_keeps_that_step(tmp_path, monkeypatch):
    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(loop, "save_grids", broken)
    model = _model("gan", batch_size=4)
    sampler = data.RoundSampler(data.digits_images(32)[:40], 4, model.images_per_round,
                                model.latents_per_round, 8, seed=0)
    with pytest.raises(OSError, match="disk full"):  # at the first grid, after step 4
        loop.train(model, sampler, data.digits_images(32)[:8], str(tmp_path), {"config": {}, "seed": 0}, 8,
                   checkpoint_every=1000, sample_every=4, verbose=0)
    assert checkpoint.load_latest(str(tmp_path / "checkpoints"))[1]["step"] == 4


def test_resume_accepts_tuples_saved_as_lists():
    loop.check_resumable({"config": {"ema_decays": [0.999, 0.9999]}}, {"ema_decays": (0.999, 0.9999)})
