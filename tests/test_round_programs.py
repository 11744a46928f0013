"""A fused round computes the same round unrolled, looped (PureModel.round_program) and as one
program per update: in float64 every weight, statistic, optimizer slot and loss agrees to
rounding. The comparison runs in its own process (tests/round_programs_check.py)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _compare(*names):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run([sys.executable, os.path.join(HERE, "round_programs_check.py"), *names], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _assert_same_round(measured, repeated_kinds):
    assert measured["looped"] < 1e-12 and measured["per update"] < 1e-12, measured
    # The looped round traced one loop per kind of repeated update (so it is not the unrolled
    # program found again), the others none.
    assert measured["loops traced"] == {"unrolled": 0, "looped": repeated_kinds, "per update": 0}, measured


def test_aegan_round_is_the_same_unrolled_looped_and_per_update():
    _assert_same_round(_compare("aegan")["aegan"], 3)  # Dx, Dz, G+E: 4 updates each


@pytest.mark.slow
def test_gan_and_aae_rounds_are_the_same_unrolled_looped_and_per_update():
    measured = _compare("gan", "aae")
    _assert_same_round(measured["gan"], 2)
    _assert_same_round(measured["aae"], 2)


def test_auto_loops_on_an_accelerator_and_on_a_cpu_splits_large_rounds_under_jax_and_keeps_what_a_resumed_run_chose(
        monkeypatch):
    from common import UserError, engine, loop

    large, small = loop.PER_UPDATE_MIN_FLOPS, loop.PER_UPDATE_MIN_FLOPS / 2
    monkeypatch.setattr(engine, "on_accelerator", lambda: False)
    assert loop.choose_round_program() == "unrolled"
    assert loop.choose_round_program(round_flops=small) == "unrolled"
    assert loop.choose_round_program(round_flops=large) == ("per-update" if engine.BACKEND == "jax" else "unrolled")
    assert loop.choose_round_program("auto", recorded="looped", round_flops=large) == "looped"
    assert loop.choose_round_program("looped", recorded="unrolled") == "looped"
    assert loop.choose_round_program("per-update", round_flops=small) == "per-update"
    monkeypatch.setattr(engine, "on_accelerator", lambda: True)
    assert loop.choose_round_program(round_flops=large) == "looped"
    assert loop.choose_round_program("auto", recorded="unrolled") == "unrolled"
    with pytest.raises(UserError, match="round program 'scan'"):
        loop.choose_round_program("scan")


def _tiny_gan():
    """A tiny 2-D GAN (4 programs a per-update round), its initial state and a round's batches."""
    from aegan.config import make_config
    from runs import registry

    keras.utils.set_random_seed(0)
    model = registry.build(make_config("tiny", model="gan", architecture="mlp", hidden_units=8, mirror=False))
    images = np.zeros((model.images_per_round, 4, 2), np.float32)
    latents = np.ones((model.latents_per_round, 4, model.latent_dim), np.float32)
    return model, model.initial_state(), images, latents


def test_the_per_update_round_program_runs_a_long_runs_round_as_one_program_per_kind_of_update():
    model, state, images, latents = _tiny_gan()
    model.set_round_program("per-update")
    per_update, _, finite = model.train_round(state, images, latents, fused=True)
    assert bool(finite)
    assert sorted({key[0] for key in model._compiled}) == ["all_finite", "fakes", "update discriminator_image",
                                                           "update generator"]
    unfused, _, _ = model.train_round(state, images, latents, fused=False)  # a short run's round
    for a, b in zip(keras.tree.flatten(per_update), keras.tree.flatten(unfused)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert model.round_flops() > 0


def test_programs_of_one_update_compile_quick_and_whole_rounds_with_full_optimization(monkeypatch):
    """engine.compile_function's `quick` (under JAX on a CPU, LLVM's level 1) is asked for every
    program of one update or less, never for a fused round or several rounds in one program."""
    from common import engine

    asked, compile_function = [], engine.compile_function

    def recording(fn, xla_on_cpu=True, quick=False, keep=None):
        asked.append(quick)
        return compile_function(fn, xla_on_cpu, quick, keep)

    monkeypatch.setattr(engine, "compile_function", recording)
    model, state, images, latents = _tiny_gan()
    model.set_round_program("per-update")
    model.train_round(state, images, latents, fused=True)
    assert asked == [True] * 4, asked  # fakes, two kinds of update, all_finite
    for kind in ("unrolled", "looped"):
        asked.clear()
        model.set_round_program(kind)
        model.train_round(state, images, latents, fused=True)
        assert asked == [False], (kind, asked)
    asked.clear()
    model.train_rounds(state, images[None], latents[None])
    assert asked == [False], asked


def test_a_run_records_its_round_program_and_a_resume_keeps_it(tmp_path):
    from aegan.config import make_config
    from collapse import mixtures
    from common import checkpoint, data, loop
    from runs import registry

    keras.utils.set_random_seed(0)
    model = registry.build(make_config("tiny", model="gan", architecture="mlp", hidden_units=8, mirror=False))

    def train(steps, **kw):
        sampler = data.RoundSampler(mixtures.sample("ring8", 40, 0), 4, model.images_per_round,
                                    model.latents_per_round, 8, seed=0, mirror=False)
        loop.train(model, sampler, mixtures.sample("ring8", 8, 1), str(tmp_path), {"config": {}, "seed": 0},
                   steps, checkpoint_every=4, sample_every=10_000, verbose=0, **kw)
        return checkpoint.load_latest(str(tmp_path / "checkpoints"))[1]["round_program"]

    assert train(4, round_program="looped") == "looped"
    model.set_round_program("unrolled")
    assert train(8, resume=True) == "looped" and model.round_program == "looped"
