"""XLA or a TF graph on CPU, chosen by measurement (common/cpu_compile.py): forced, recorded,
measured and cached, printed, and without effect on what the run computes."""

import json
import os

import numpy as np
import pytest

from common import checkpoint, cpu_compile, data, engine, loop

pytestmark = pytest.mark.skipif(engine.BACKEND != "tensorflow" or engine.on_accelerator(),
                                reason="the choice exists under TensorFlow on a CPU only (JAX and GPUs use XLA)")

ROUNDS = loop.FUSE_MIN_ROUNDS  # the shortest run that compiles the whole round, and so is measured


def _gan():
    import keras

    from aegan.config import make_config
    from runs import registry

    keras.utils.set_random_seed(0)
    return registry.build(make_config("tiny", model="gan", architecture="mlp", hidden_units=8, mirror=False))


def _train(tmp_path, name, model=None, **kw):
    from collapse import mixtures

    model = model or _gan()
    sampler = data.RoundSampler(mixtures.sample("ring8", 40, 0), 4, model.images_per_round,
                                model.latents_per_round, 8, seed=0, mirror=False)
    out = str(tmp_path / name)
    loop.train(model, sampler, mixtures.sample("ring8", 8, 1), out, {"config": {}, "seed": 0},
               ROUNDS * model.steps_per_round, checkpoint_every=10_000, sample_every=10_000, verbose=0, **kw)
    return model, checkpoint.load_latest(os.path.join(out, "checkpoints"))


def test_forced_recorded_and_short_runs_are_not_timed(monkeypatch):
    model = _gan()
    monkeypatch.setattr(cpu_compile, "measure", lambda *a: pytest.fail("measured"))
    assert "forced" in cpu_compile.choose(model, None, None, True, "graph") and not model.xla_on_cpu
    assert "forced" in cpu_compile.choose(model, None, None, True, "xla") and model.xla_on_cpu
    line = cpu_compile.choose(model, None, None, True, "auto", recorded="graph")
    assert "as this run chose" in line and not model.xla_on_cpu
    model.xla_on_cpu = True
    assert "default" in cpu_compile.choose(model, None, None, False, "auto") and model.xla_on_cpu
    with pytest.raises(cpu_compile.UserError, match="--cpu-compile"):
        cpu_compile.choose(model, None, None, True, "fast")


def test_auto_measures_both_once_caches_and_computes_as_the_forced_choice(tmp_path, capsys):
    cache = tmp_path / "cache"
    model, (_, meta, flat) = _train(tmp_path, "auto", cpu_compile_mode="auto", cache_dir=str(cache))
    out = capsys.readouterr().out
    chosen = meta["cpu_compile"]
    assert chosen in ("xla", "graph") and "measured faster" in out and "ms/step" in out
    (entry,) = json.load(open(cache / cpu_compile.CACHE_FILE)).values()
    assert entry["mode"] == chosen and set(entry["measured"]) == {"xla", "graph"}
    assert entry["cpu"] == cpu_compile.cpu_name() and entry["model"] == "GAN"
    # The trial's rounds are thrown away: the run is the run the forced choice trains.
    _, (_, forced_meta, forced) = _train(tmp_path, "forced", cpu_compile_mode=chosen)
    assert forced_meta["cpu_compile"] == chosen
    for k in flat:
        np.testing.assert_array_equal(flat[k], forced[k], err_msg=k)
    # A second run reads the decision from the cache.
    _, _ = _train(tmp_path, "again", cpu_compile_mode="auto", cache_dir=str(cache))
    assert "cached in" in capsys.readouterr().out


def test_the_cpu_is_named():
    name = cpu_compile.cpu_name()
    assert "cores" in name and len(name) > len("(2 cores)")
