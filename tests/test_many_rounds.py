"""Several rounds per compiled program (PureModel.train_rounds, loop's rounds_per_call) compute
what one round per call computes, resume exactly, and stop at the last good round."""

import json

import keras
import numpy as np
import pytest

from aegan.config import make_config
from runs import registry
from collapse import mixtures
from common import checkpoint, data, engine, loop


def _model(name="aegan", **overrides):
    keras.utils.set_random_seed(0)
    return registry.build(make_config("tiny", model=name, architecture="mlp", hidden_units=16, mirror=False,
                                   **overrides))


def _rounds(model, count, seed=0):
    sampler = data.RoundSampler(mixtures.sample("ring8", 400), model.cfg.batch_size, model.images_per_round,
                                model.latents_per_round, model.latent_dim, seed, mirror=False)
    return sampler, sampler.rounds(0, count)


def _assert_states_close(a, b):
    for net in a["params"]:
        for x, y in zip(a["params"][net], b["params"][net]):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)
        for x, y in zip(a["buffers"][net], b["buffers"][net]):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", [pytest.param("aegan", marks=pytest.mark.slow), "gan"])
def test_rounds_in_one_program_equal_one_round_per_call(name):
    model = _model(name)
    _, (images, latents) = _rounds(model, 5)
    state, losses = model.initial_state(), []
    for r in range(5):
        state, round_losses, finite = engine.to_numpy(model.train_round(state, images[r], latents[r], fused=True))
        assert bool(finite)
        losses.append(round_losses)
    looped, looped_losses, good = engine.to_numpy(model.train_rounds(model.initial_state(), images, latents))
    assert good.shape == (5,) and good.all()
    _assert_states_close(state, looped)
    for group in looped_losses:
        assert looped_losses[group].shape == (5, *losses[0][group].shape)
        np.testing.assert_allclose(looped_losses[group], np.stack([l[group] for l in losses]), rtol=1e-4, atol=1e-6)


def test_a_bad_round_leaves_the_state_of_the_last_good_one():
    model = _model("gan")
    _, (images, latents) = _rounds(model, 4)
    images[2, 0, 0, 0] = np.nan  # the third round's first real batch
    two, _, _ = engine.to_numpy(model.train_rounds(model.initial_state(), images[:2], latents[:2]))
    stopped, losses, good = engine.to_numpy(model.train_rounds(model.initial_state(), images, latents))
    assert list(good) == [True, True, False, False]
    _assert_states_close(two, stopped)
    assert np.isfinite(stopped["params"]["generator"][0]).all()


def _train(model, out, steps, rounds_per_call, resume=False, checkpoint_every=12):
    sampler, _ = _rounds(model, 1)
    return loop.train(model, sampler, mixtures.sample("ring8", 8, 1), str(out), {"config": {}, "seed": 0},
                      steps, resume=resume, checkpoint_every=checkpoint_every, sample_every=1000, verbose=0,
                      rounds_per_call=rounds_per_call)


@pytest.mark.slow
@pytest.mark.backend_agnostic
def test_the_loop_with_rounds_per_call_trains_logs_and_resumes_as_one_round_per_call(tmp_path):
    # 10 rounds in calls of 4: rounds 0-3, 4-7 and 8-9 (a shorter last call).
    one, _ = _train(_model(), tmp_path / "one", 40, 1)
    many, step = _train(_model(), tmp_path / "many", 40, 4)
    assert step == 40
    _assert_states_close(engine.to_numpy(one), engine.to_numpy(many))
    rows = [json.loads(line) for line in open(tmp_path / "many" / "losses.jsonl")]
    assert [r["step"] for r in rows] == list(range(4, 44, 4))
    # Checkpoints every 12 steps fall inside calls: each is written at the end of its call.
    saved = [checkpoint.read(p)[0]["step"] for p in checkpoint.list_checkpoints(str(tmp_path / "many" / "checkpoints"))]
    assert saved == [16, 32, 40]
    # Stopped at step 16 (round 4) and resumed: the same calls from there, the same weights.
    _train(_model(), tmp_path / "resumed", 16, 4)
    resumed, _ = _train(_model(), tmp_path / "resumed", 40, 4, resume=True)
    _assert_states_close(engine.to_numpy(many), engine.to_numpy(resumed))


def test_rounds_per_call_refuses_skip_nonfinite(tmp_path):
    model = _model("gan")
    sampler, _ = _rounds(model, 1)
    with pytest.raises(loop.RunError, match="one round per call"):
        loop.train(model, sampler, mixtures.sample("ring8", 8, 1), str(tmp_path / "r"), {"config": {}, "seed": 0},
                   8, verbose=0, skip_nonfinite=True, rounds_per_call=2)
