"""Programs kept whole between starts (common/program_store.py): the keys they are found by
before tracing, and a kept program found again untraced, the same program as the one compiled."""

import os

import keras
import numpy as np
import pytest

from common import engine, program_store
from common.program_store import Unkeyable, value_key

_KEPT_PROGRAM = program_store.KeptProgram
jax_only = pytest.mark.skipif(engine.BACKEND != "jax", reason="programs are kept whole under JAX only")


def _tiny(model="gan", **overrides):
    from aegan.config import make_config
    from runs import registry

    keras.utils.set_random_seed(0)
    settings = {"architecture": "mlp", "hidden_units": 8, "mirror": False, **overrides}
    return registry.build(make_config("tiny", model=model, **settings))


def _program_keys(model, monkeypatch, tmp_path):
    """{program: its key} for the programs of one per-update round of `model`."""
    keys = {}

    class Recording(_KEPT_PROGRAM):
        def __init__(self, jitted, name, key, options, folder):
            keys[name] = key
            super().__init__(jitted, name, key, options, folder)

        def __call__(self, *args):
            return self.jitted(*args)

    monkeypatch.setattr(program_store, "KeptProgram", Recording)
    monkeypatch.setattr(engine, "_kept_folder", [str(tmp_path)])
    model.set_round_program("per-update")
    images = np.zeros((model.images_per_round, 4, 2), np.float32)
    latents = np.ones((model.latents_per_round, 4, model.latent_dim), np.float32)
    model.train_round(model.initial_state(), images, latents, fused=True)
    return keys


@jax_only
def test_a_programs_key_is_what_it_computes_and_not_which_objects_compute_it(monkeypatch, tmp_path):
    keys = lambda model: _program_keys(model, monkeypatch, tmp_path)  # noqa: E731
    first = keys(_tiny())
    assert sorted(first) == ["all_finite", "fakes", "update discriminator_image", "update generator"]
    assert keys(_tiny()) == first  # another model built from the same config
    assert keys(_tiny(steps=400)) == first  # the run's length: read by the loop only
    other = keys(_tiny(generator_encoder_lr=1e-4))
    assert other["update generator"] != first["update generator"]
    assert other["update discriminator_image"] != first["update discriminator_image"]  # the model's config is in each
    assert other["all_finite"] == first["all_finite"]  # a function of the state alone
    assert keys(_tiny(hidden_units=16))["fakes"] != first["fakes"]


def test_values_without_a_lasting_key_keep_their_program_out_of_the_store(monkeypatch):
    from aegan import losses

    assert value_key(losses.adversarial_loss) == value_key(losses.adversarial_loss)
    assert value_key(np.arange(3.0)) != value_key(np.arange(3.0) + 1)
    with pytest.raises(Unkeyable, match="outside the repository"):
        value_key(lambda x: x)  # the tests are not the repository's source

    class Here:
        pass

    with pytest.raises(Unkeyable, match="outside the repository"):
        value_key(Here())
    model = _tiny()
    model.lasting_key()
    model.nets["generator"] = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(Unkeyable, match="network other than"):
        model.lasting_key()
    program_store.trace_settings()
    monkeypatch.setattr(losses, "adversarial_loss", lambda logits, label: logits)  # as a notebook might
    with pytest.raises(Unkeyable, match="aegan.losses.adversarial_loss was replaced"):
        program_store.trace_settings()


@jax_only
def test_a_kept_program_is_loaded_untraced_and_is_the_program_compiled(tmp_path, capsys):
    import jax
    import jax.numpy as jnp

    traced = []

    def made():  # a function of its own each time: jax.jit keeps the traces of one function
        def f(x, y):
            traced.append(1)
            return {"product": jnp.tanh(x @ y), "sum": jnp.sum(jnp.sin(x))}
        return f

    x = np.linspace(-1, 1, 48, dtype=np.float32).reshape(8, 6)
    y = np.linspace(0, 2, 30, dtype=np.float32).reshape(6, 5)
    folder = str(tmp_path)

    def kept(key):
        return program_store.KeptProgram(jax.jit(made()), "f", key, None, folder)

    first = kept("a")
    expected = jax.tree.map(np.asarray, first(x, y))
    assert first.how == "compiled" and len(traced) == 1
    again = kept("a")
    out = again(x, y)
    assert again.how == "loaded" and len(traced) == 1  # not traced
    for k in expected:
        np.testing.assert_array_equal(np.asarray(out[k]), expected[k])
    renamed = kept("b")  # a new key (the source changed), the same computation
    renamed(x, y)
    assert renamed.how == "traced and loaded" and len(traced) == 2
    assert kept("b")(x, y) is not None and len(traced) == 2
    smaller = again(x[:3], y)  # other shapes: the plain jit
    np.testing.assert_allclose(np.asarray(smaller["product"]), np.tanh(x[:3] @ y), rtol=1e-5)
    inside = kept("c")  # called inside another program: part of it
    np.testing.assert_allclose(np.asarray(jax.jit(lambda a, b: inside(a, b)["sum"])(x, y)), expected["sum"], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.jit(lambda a, b: again(a, b)["sum"])(x, y)), expected["sum"], rtol=1e-6)

    for name in os.listdir(folder):  # damaged entries: a warning each, and a fresh compile
        with open(os.path.join(folder, name), "wb") as file:
            file.write(b"\xff\xfe not a program")
    capsys.readouterr()
    damaged = kept("a")
    out = damaged(x, y)
    assert damaged.how == "compiled"
    assert "cannot be read: removed, it compiles afresh" in capsys.readouterr().err
    np.testing.assert_array_equal(np.asarray(out["product"]), expected["product"])
    assert kept("a")(x, y) is not None and kept("a").how is None  # (the first call sets how)


@jax_only
def test_no_program_reads_the_fields_left_out_of_its_key():
    """PureModel.loop_only_fields are left out of every program's key, so no program may read
    them: each model's round is traced with a config that refuses them."""
    import jax

    class Refusing:
        def __init__(self, cfg, fields):
            self._cfg, self._fields = cfg, fields

        def __getattr__(self, name):
            if name in self._fields:
                raise AssertionError(f"a program read cfg.{name}")
            return getattr(self._cfg, name)

    from ogan.config import make_config as ogan_config
    from runs import registry

    keras.utils.set_random_seed(0)
    for model in (_tiny("aegan"), _tiny("aae"), registry.build(ogan_config("tiny"))):
        state = model.state_template()
        model.cfg = Refusing(model.cfg, model.loop_only_fields)
        side = model.cfg.resolution
        shape = (model.cfg.batch_size, 2) if getattr(model.cfg, "architecture", "conv") != "conv" else (model.cfg.batch_size, side, side, 3)
        images = np.zeros((model.images_per_round, *shape), np.float32)
        latents = np.zeros((model.latents_per_round, model.cfg.batch_size, model.latent_dim), np.float32)
        jax.eval_shape(lambda s, i, z: model.train_round(s, i, z), state, images, latents)
