"""Training on tiny images: every network learns, reconstruction improves, resume is exact."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest

from aegan.config import make_config
from runs import registry
from common import checkpoint, data, engine, loop, run_folder
from common.model import all_finite


def _model(name, **overrides):
    keras.utils.set_random_seed(0)
    return registry.build(make_config("tiny", model=name, **overrides))


_SHARED = {}
# The tests that share a model run in one xdist worker, so its programs compile once there.
run_model = pytest.mark.xdist_group("test_training-aegan")
gan_model = pytest.mark.xdist_group("test_training-gan")


# AEGAN's generator and encoder learn at 10x the paper's rate here, so that its reconstruction
# loss falls clearly within 20 rounds; no other test of the shared model depends on the rate.
_SHARED_SETTINGS = {"aegan": {"generator_encoder_lr": 2e-3}}


def _shared(name):
    """One model of the tiny preset per name for the tests of this module: a model keeps all it
    trains in `state`, so tests cannot leak into each other, and its compiled programs are reused
    (a loop of under loop.FUSE_MIN_ROUNDS rounds calls the same update programs as model.round)."""
    if name not in _SHARED:
        _SHARED[name] = _model(name, **_SHARED_SETTINGS.get(name, {}))
    return _SHARED[name]


def _batch(model, seed=0):
    rng = np.random.default_rng(seed)
    c = model.cfg
    imgs = rng.uniform(-1, 1, (model.images_per_round, c.batch_size, c.resolution, c.resolution, 3))
    zs = rng.standard_normal((model.latents_per_round, c.batch_size, c.latent_dim))
    return imgs.astype("float32"), zs.astype("float32")


@pytest.mark.parametrize("name", [pytest.param("aegan", marks=run_model), pytest.param("gan", marks=gan_model), "aae"])
def test_every_trained_network_changes(name):
    model = _shared(name)
    start = model.initial_state()
    state, losses = model.round(start, *_batch(model))
    for net in model.network_names:
        assert any(not np.allclose(a, b) for a, b in zip(start["params"][net], state["params"][net])), net
    for group, names in model.loss_names.items():
        values = engine.to_numpy(losses[group])
        assert values.shape == (4, len(names)) and np.isfinite(values).all()


@pytest.mark.parametrize("name", ["aegan", "gan"])  # AEGAN's round has every kind of update AAE's has
def test_fused_round_equals_the_updates_called_one_by_one(name):
    # Dense networks: the same updates as the conv ones, compiled in seconds.
    model = _model(name, architecture="mlp", hidden_units=16, mirror=False)
    rng = np.random.default_rng(0)
    imgs = rng.standard_normal((model.images_per_round, 4, 2)).astype("float32")
    zs = rng.standard_normal((model.latents_per_round, 4, 8)).astype("float32")
    start = model.initial_state()
    one_by_one, losses_a, finite_a = engine.to_numpy(model.train_round(start, imgs, zs, fused=False))
    fused, losses_b, finite_b = engine.to_numpy(model.train_round(start, imgs, zs, fused=True))
    assert bool(finite_a) and bool(finite_b)
    for group in losses_a:
        np.testing.assert_allclose(losses_a[group], losses_b[group], rtol=1e-5, atol=1e-6)
    for net in model.network_names:
        for a, b in zip(one_by_one["params"][net], fused["params"][net]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(one_by_one["buffers"]["generator"], fused["buffers"]["generator"]):
        np.testing.assert_array_equal(a, b)


@run_model
def test_aegan_reconstruction_loss_falls():
    model = _shared("aegan")  # at 10x the paper's rate: a clear signal in seconds
    assert model.cfg.generator_encoder_lr == 2e-3
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


@run_model
def test_noise_layers_are_active_in_training_and_off_in_inference():
    model = _shared("aegan")
    state = model.initial_state()
    x = np.zeros((2, 32, 32, 3), "float32")
    a, s1 = model.call(state, "encoder", x, training=True)
    b, _ = model.call(s1, "encoder", x, training=True)
    assert not np.allclose(np.asarray(a), np.asarray(b))  # seeds advance between calls
    np.testing.assert_array_equal(np.asarray(model.encode(state, x)), np.asarray(model.encode(s1, x)))


def _run(out, steps, resume=False):
    model = _shared("aegan")
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


@run_model
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


@run_model
def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    _run(tmp_path / "run", 4)
    with pytest.raises(loop.RunError, match="--resume"):
        _run(tmp_path / "run", 8)


@run_model
def test_resume_refuses_other_settings(tmp_path):
    _run(tmp_path / "run", 4)
    _, meta, _ = checkpoint.load_latest(str(tmp_path / "run" / "checkpoints"))
    with pytest.raises(loop.RunError, match="latent_dim"):
        run_folder.check_resumable(meta, {"latent_dim": 16})


def test_a_checkpoint_from_before_a_setting_existed_resumes_with_its_default():
    old = {"config": {"latent_dim": 8}}  # made before `precision` was a setting
    run_folder.check_resumable(old, {"latent_dim": 8, "precision": "float32"}, {"precision": "float32"})
    with pytest.raises(loop.RunError, match="precision: checkpoint 'float32', now 'mixed_bfloat16'"):
        run_folder.check_resumable(old, {"latent_dim": 8, "precision": "mixed_bfloat16"}, {"precision": "float32"})


def test_damaged_latest_checkpoint_falls_back(tmp_path, capsys):
    state = {"params": {"g": [np.ones(3, "float32")]}}
    d = str(tmp_path)
    checkpoint.save(d, 4, state, {"config": {}})
    latest = checkpoint.save(d, 8, state, {"config": {}})
    with open(latest, "r+b") as f:
        f.truncate(100)
    _, meta, _ = checkpoint.load_latest(d)
    assert meta["step"] == 4 and "trying an older one" in capsys.readouterr().err


@gan_model
def test_an_error_after_a_step_keeps_that_step(tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("the grid broke")

    monkeypatch.setattr(loop, "save_grids", broken)
    model = _shared("gan")
    sampler = data.RoundSampler(data.digits_images(32)[:40], 4, model.images_per_round,
                                model.latents_per_round, 8, seed=0)
    with pytest.raises(RuntimeError, match="the grid broke"):  # at the first grid, after step 4
        loop.train(model, sampler, data.digits_images(32)[:8], str(tmp_path), {"config": {}, "seed": 0}, 8,
                   checkpoint_every=1000, sample_every=4, verbose=0)
    assert checkpoint.load_latest(str(tmp_path / "checkpoints"))[1]["step"] == 4


def test_resume_accepts_tuples_saved_as_lists():
    run_folder.check_resumable({"config": {"ema_decays": [0.999, 0.9999]}}, {"ema_decays": (0.999, 0.9999)})


@pytest.fixture
def poisoned(monkeypatch):
    """The shared GAN, its train_round's round `bad_round` returning a NaN loss or a NaN weight
    (for one test)."""
    return lambda bad_round, poison: _poisoned(_shared("gan"), bad_round, poison, monkeypatch)


def _poisoned(model, bad_round, poison, monkeypatch):
    calls = {"n": 0}
    clean = model.train_round

    def round_fn(state, imgs, zs, fused=True):
        state, losses, _ = clean(state, imgs, zs, fused)
        calls["n"] += 1
        if calls["n"] == bad_round:
            if poison == "loss":
                losses = {**losses, "generator": np.full(np.shape(losses["generator"]), np.nan, "float32")}
            else:
                g = list(state["params"]["generator"])
                g[0] = np.full(np.shape(g[0]), np.nan, "float32")
                state = {**state, "params": {**state["params"], "generator": g}}
        return state, losses, all_finite(state)

    monkeypatch.setattr(model, "train_round", round_fn)
    return model


def _gan_run(out, model, **kw):
    sampler = data.RoundSampler(data.digits_images(32)[:40], 4, model.images_per_round,
                                model.latents_per_round, 8, seed=0)
    return loop.train(model, sampler, data.digits_images(32)[:8], str(out), {"config": {}, "seed": 0}, 16,
                      checkpoint_every=1000, sample_every=1000, verbose=0, **kw)


@gan_model
@pytest.mark.parametrize("poison, named", [("loss", "adversarial_image_generated"), ("weight", "a weight")])
def test_non_finite_stops_at_the_last_good_state(tmp_path, poisoned, poison, named):
    model = poisoned(3, poison)
    with pytest.raises(loop.NonFiniteError, match=f"step 12: {named} became NaN or infinite"):
        _gan_run(tmp_path, model)
    _, meta, flat = checkpoint.load_latest(str(tmp_path / "checkpoints"))
    assert meta["step"] == 8 and all(np.isfinite(a).all() for a in flat.values())


@gan_model
def test_non_finite_update_can_be_skipped(tmp_path, capsys, poisoned):
    model = poisoned(3, "loss")
    _, step = _gan_run(tmp_path, model, skip_nonfinite=True)
    assert step == 16 and [r["step"] for r in _rows(tmp_path)] == [4, 8, 16]
    assert "update dropped (1 so far)" in capsys.readouterr().err


@run_model
def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    lock = run_folder.RunLock(str(tmp_path / "run"))
    with lock, pytest.raises(loop.RunError, match="another run"):
        _run(tmp_path / "run", 4)
    assert not os.path.exists(tmp_path / "run" / ".lock")


@run_model
def test_a_dead_process_lock_is_taken_over(tmp_path, capsys):
    import socket

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").write_text(f"{socket.gethostname()} 999999999")
    _run(tmp_path / "run", 4)
    assert "taking over" in capsys.readouterr().err and not os.path.exists(tmp_path / "run" / ".lock")


def test_sigterm_writes_a_checkpoint(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    out = tmp_path / "run"
    # The GAN (two networks: what is tested is the signal, not the model), 199 rounds: under
    # loop.FUSE_MIN_ROUNDS, so the updates compile one by one (3x faster), and under TensorFlow
    # as a graph (not the compiler either).
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "experiments", "aegan_anime.py"), "--preset", "tiny",
                             "--model", "gan", "--steps", "796", "--checkpoint-every", "100000", "--sample-every", "100000",
                             "--cpu-compile", "graph",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "losses.csv").exists() or len((out / "losses.csv").read_text().splitlines()) < 3:
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "--resume" in err
    _, meta, _ = checkpoint.load_latest(str(out / "checkpoints"))
    assert meta["step"] >= 8 and not (out / ".lock").exists()


@pytest.mark.parametrize("broken", ["write", "__init__"])
def test_logs_go_on_when_tensorboard_cannot_be_written(tmp_path, monkeypatch, capsys, broken):
    def fail(*args, **kwargs):  # a full disk, say
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run_folder.TensorBoardEvents, broken, fail)
    logs = run_folder.Logs(str(tmp_path), ["loss"], resume_step=0)
    for step in (4, 8, 12):
        logs.write({"step": step, "loss": 0.5, "seconds": 1.0})
        logs.flush()
    logs.close()
    err = capsys.readouterr().err
    assert err.count("warning: TensorBoard events cannot be written") == 1, err
    assert "losses.csv and losses.jsonl go on" in err
    assert [r["step"] for r in _rows(tmp_path)] == [4, 8, 12]
    with open(tmp_path / "losses.csv") as f:
        assert len(f.readlines()) == 4


def test_tensorboard_reads_the_logged_scalars_of_every_start(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for first in (4, 12):  # a run and its resume: one event file each
        logs = run_folder.Logs(str(tmp_path), ["loss"], resume_step=first - 4)
        for step in (first, first + 4):
            logs.write({"step": step, "loss": step / 100, "seconds": 1.0})
        logs.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert [(e.step, round(e.value, 6)) for e in events.Scalars("loss")] == [(4, 0.04), (8, 0.08), (12, 0.12), (16, 0.16)]


@pytest.mark.slow  # five processes, three of them compiling: about 90 s
def test_compiled_programs_are_kept_under_the_cache_dir_for_the_next_start(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    # Not the tests' own cache; TensorFlow keeps what XLA compiles, so the run is XLA's.
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "TF_XLA_FLAGS")}
    args = [sys.executable, os.path.join(ROOT, "experiments", "aegan_anime.py"), "--preset", "tiny", "--model", "gan",
            "--sample-every", "100000", "--cpu-compile", "xla", "--cache-dir", str(tmp_path / "a")]
    programs = tmp_path / "a" / "programs"
    kept = subprocess.run([*args, "--steps", "4", "--out", str(tmp_path / "kept")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert f"compiled programs kept in {programs}" in kept.stdout
    assert len(os.listdir(programs)) > 0
    resumed = subprocess.run([*args, "--steps", "8", "--resume", "--out", str(tmp_path / "kept")],
                             env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "program update discriminator_image: loaded from the cache" in resumed.stdout, resumed.stdout[-2000:]

    # Damaged entries (writes cut short) are compiled afresh, with a warning; the run goes on.
    names = sorted(os.listdir(programs))
    for name in names:
        (programs / name).write_bytes(b"\xff\xff\xff\xff not a program")
    again = subprocess.run([*args, "--steps", "12", "--resume", "--out", str(tmp_path / "kept")],
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"compiled program {programs / names[0]} cannot be read: removed" in again.stderr, again.stderr[-2000:]
    with open(tmp_path / "kept" / "losses.jsonl") as f:
        assert [json.loads(line)["step"] for line in f][-1] == 12
    assert "program update discriminator_image: compiled" in again.stdout, again.stdout[-2000:]
    warm = subprocess.run([*args, "--steps", "16", "--resume", "--out", str(tmp_path / "kept")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert "program update discriminator_image: loaded from the cache" in warm.stdout, warm.stdout[-2000:]

    fresh = subprocess.run([*args[:-1], str(tmp_path / "b"), "--steps", "4", "--out", str(tmp_path / "fresh"),
                            "--no-program-cache"], env=env, capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert "kept in" not in fresh.stdout and not (tmp_path / "b" / "programs").exists()
