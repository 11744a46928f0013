"""Several runs of one model as one program (common/batched_runs.py): each run computes, logs,
checkpoints and resumes as it does alone."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from aegan.config import make_config
from runs import registry
from collapse import mixtures
from common import UserError, batched_runs, checkpoint, data, engine, loop
from conftest import ROOT

jax_only = pytest.mark.skipif(engine.BACKEND != "jax", reason="runs are batched with jax.vmap: KERAS_BACKEND=jax only")
POINTS = mixtures.sample("ring8", 400)
TEST = mixtures.sample("ring8", 8, 1)


def _model(seed, name="gan"):
    keras.utils.set_random_seed(seed)
    return registry.build(make_config("tiny", model=name, architecture="mlp", hidden_units=16, mirror=False))


def _sampler(model, seed, points=POINTS):
    return data.RoundSampler(points, model.cfg.batch_size, model.images_per_round, model.latents_per_round,
                             model.latent_dim, seed, mirror=False)


def _meta(seed):
    return {"config": {}, "seed": seed}


def _alone(out, seed, steps, name="gan", resume=False):
    model = _model(seed, name)
    return loop.train(model, _sampler(model, seed), TEST, str(out), _meta(seed), steps, resume=resume,
                      checkpoint_every=12, sample_every=1000, verbose=0, rounds_per_call=4)


def _batched(outs, seeds, steps, name="gan", resume=False, points=None):
    models = [_model(s, name) for s in seeds]
    runs = [batched_runs.Run(_sampler(m, s, points[i] if points else POINTS), TEST, str(o), _meta(s),
                             m.initial_state())
            for i, (m, s, o) in enumerate(zip(models, seeds, outs))]
    return loop.train_batched(models[0], runs, steps, resume=resume, checkpoint_every=12, sample_every=1000,
                              verbose=0, rounds_per_call=4)


def _assert_states_close(a, b):
    for group in ("params", "buffers"):
        for net in a[group]:
            for x, y in zip(a[group][net], b[group][net]):
                np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)


def _log(out):
    return [json.loads(line) for line in open(os.path.join(out, "losses.jsonl"))]


def _saved_steps(out):
    return [checkpoint.read(p)[0]["step"] for p in checkpoint.list_checkpoints(os.path.join(out, "checkpoints"))]


@jax_only
# AEGAN's round has every kind of update the GAN's has, and more: the slow tier.
@pytest.mark.parametrize("name", ["gan", pytest.param("aegan", marks=pytest.mark.slow)])
def test_runs_in_one_program_compute_log_and_checkpoint_as_each_alone(tmp_path, name):
    alone = [_alone(tmp_path / f"alone{s}", s, 40, name)[0] for s in (0, 1)]
    states, step = _batched([tmp_path / "b0", tmp_path / "b1"], [0, 1], 40, name)
    assert step == 40
    for s in (0, 1):
        _assert_states_close(engine.to_numpy(alone[s]), states[s])
        mine, theirs = _log(tmp_path / f"b{s}"), _log(tmp_path / f"alone{s}")
        assert [r["step"] for r in mine] == [r["step"] for r in theirs]
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose([a[k] for k in a if k not in ("step", "seconds")],
                                       [b[k] for k in a if k not in ("step", "seconds")], rtol=1e-4, atol=1e-6)
        assert _saved_steps(tmp_path / f"b{s}") == _saved_steps(tmp_path / f"alone{s}")
        assert checkpoint.load_latest(str(tmp_path / f"b{s}" / "checkpoints"))[1]["seed"] == s
    # The two seeds did not train the same weights.
    assert not np.allclose(states[0]["params"]["generator"][0], states[1]["params"]["generator"][0])


@jax_only
def test_batched_runs_resume_together_or_alone(tmp_path):
    outs = [tmp_path / "r0", tmp_path / "r1"]
    unbroken, _ = _batched([tmp_path / "u0", tmp_path / "u1"], [0, 1], 40)
    _batched(outs, [0, 1], 16)
    resumed, _ = _batched(outs, [0, 1], 40, resume=True)
    for s in (0, 1):
        _assert_states_close(unbroken[s], resumed[s])
    # A batched run's checkpoint is an ordinary one: the loop continues it alone.
    _batched([tmp_path / "a0", tmp_path / "a1"], [0, 1], 16)
    alone, _ = _alone(tmp_path / "a1", 1, 40, resume=True)
    _assert_states_close(unbroken[1], engine.to_numpy(alone))


@jax_only
def test_runs_at_different_steps_or_sharing_a_folder_are_refused(tmp_path):
    _alone(tmp_path / "r0", 0, 12)
    with pytest.raises(loop.RunError, match="must start at the same step.*12.*0"):
        _batched([tmp_path / "r0", tmp_path / "r1"], [0, 1], 40, resume=True)
    with pytest.raises(loop.RunError, match="folder of its own"):
        _batched([tmp_path / "s", tmp_path / "s"], [0, 1], 40)


@jax_only
def test_a_run_that_goes_nan_stops_the_batch_and_every_run_keeps_its_last_good_state(tmp_path):
    bad = POINTS.copy()
    bad[:] = np.nan
    with pytest.raises(loop.NonFiniteError, match="b1"):
        _batched([tmp_path / "b0", tmp_path / "b1"], [0, 1], 40, points=[POINTS, bad])
    assert _saved_steps(tmp_path / "b0") == [16]  # the end of its first span (rounds 0-3), where the error stopped it
    meta, flat = checkpoint.read(checkpoint.list_checkpoints(str(tmp_path / "b1" / "checkpoints"))[-1])
    assert meta["step"] == 0 and all(np.isfinite(a).all() for a in flat.values())


def _mode_collapse(out, *extra):
    return subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "mode_collapse.py"), "--data", "ring8",
                           "--models", "gan", "--seeds", "2", "--steps", "8", "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=600, check=False)


@jax_only
def test_mode_collapse_trains_seeds_in_one_program_and_measures_them_as_runs_alone(tmp_path):
    together = _mode_collapse(tmp_path / "together", "--seeds-per-program", "2", "--rounds-per-call", "2")
    assert together.returncode == 0, together.stderr[-2000:]
    assert "training gan, seeds 0, 1 as one program" in together.stdout
    apart = _mode_collapse(tmp_path / "apart", "--rounds-per-call", "2")
    assert apart.returncode == 0, apart.stderr[-2000:]
    for s in (0, 1):
        np.testing.assert_allclose(np.load(tmp_path / "together" / f"gan-seed{s}" / "samples.npy"),
                                   np.load(tmp_path / "apart" / f"gan-seed{s}" / "samples.npy"), rtol=1e-4, atol=1e-5)
    again = _mode_collapse(tmp_path / "together", "--seeds-per-program", "2")
    assert again.returncode == 0 and again.stdout.count("finished at step 8") == 2
    assert "as one program" not in again.stdout


@pytest.mark.skipif(engine.BACKEND == "jax", reason="under JAX the seeds are batched")
def test_seeds_per_program_under_tensorflow_is_one_clear_line(tmp_path):
    result = _mode_collapse(tmp_path, "--seeds-per-program", "2")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == ("error: --seeds-per-program needs KERAS_BACKEND=jax (the seeds are mapped "
                                     "with jax.vmap)")


def test_engine_vmap_under_tensorflow_says_to_train_one_run_per_program():
    if engine.BACKEND == "jax":
        out = engine.vmap(lambda x: x * 2)(np.arange(3.0)[:, None])
        np.testing.assert_allclose(np.asarray(out), [[0.0], [2.0], [4.0]])
    else:
        with pytest.raises(UserError, match="KERAS_BACKEND=jax only"):
            engine.vmap(lambda x: x)
