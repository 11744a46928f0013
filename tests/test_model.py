"""The model base: a compiled program is found by what it computes, never by a name alone."""

import keras
import numpy as np
import pytest
from keras import ops

from common import engine
from common.model import computation_key


def _tiny_ogan():
    from ogan.config import make_config
    from ogan.models import OGAN

    keras.utils.set_random_seed(0)
    model = OGAN(make_config("tiny"))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    z = rng.standard_normal((8, 16)).astype("float32")
    return model, x, z


def test_two_losses_on_one_optimizer_give_their_own_results_fused_and_unfused():
    model, x, z = _tiny_ogan()
    state = model.initial_state()

    def named(loss):  # the values an generator_encoder update logs, the loss first
        return {"total": loss, "score_gap": 0.0 * loss, "rho": 0.0 * loss}

    def mean_code(state, inputs):
        codes, state = model.call(state, "encoder", inputs[0], training=True)
        return named(ops.mean(codes)), state

    def mean_square_code(state, inputs):
        codes, state = model.call(state, "encoder", inputs[0], training=True)
        return named(ops.mean(ops.square(codes))), state

    expected = [float(engine.to_numpy(loss(state, (x, z))[0]["total"])) for loss in (mean_code, mean_square_code)]
    assert abs(expected[0] - expected[1]) > 1e-6
    # Unfused: each update kind its own program, called in turn.
    unfused = [float(engine.to_numpy(model.repeated_update(state, "generator_encoder", loss, [(x, z)])[1])[0, 0])
               for loss in (mean_code, mean_square_code)]
    np.testing.assert_allclose(unfused, expected, rtol=1e-5)

    # Fused: both updates traced into one program, as a fused round is.
    def both(state):
        model._inlining.active = True
        try:
            return [model.repeated_update(state, "generator_encoder", loss, [(x, z)])[1]
                    for loss in (mean_code, mean_square_code)]
        finally:
            model._inlining.active = False

    fused = [float(v[0, 0]) for v in engine.to_numpy(engine.compile_function(both, model.xla_on_cpu)(state))]
    np.testing.assert_allclose(fused, expected, rtol=1e-5)


def test_an_update_binds_its_values_by_name_and_refuses_a_loss_that_names_others():
    model, x, z = _tiny_ogan()
    state = model.initial_state()

    def shuffled(state, inputs):  # the same names, in another order than loss_names'
        codes, state = model.call(state, "encoder", inputs[0], training=True)
        return {"rho": ops.mean(codes) * 0.0 + 3.0, "total": ops.mean(codes), "score_gap": ops.mean(codes) * 0.0 + 2.0}, state

    values = engine.to_numpy(model.repeated_update(state, "generator_encoder", shuffled, [(x, z)])[1])
    assert values.shape == (1, 3) and values[0, 1:].tolist() == [2.0, 3.0]  # score_gap, rho, as loss_names say

    def misnamed(state, inputs):
        codes, state = model.call(state, "encoder", inputs[0], training=True)
        return {"total": ops.mean(codes), "gap": ops.mean(codes)}, state

    with pytest.raises(ValueError, match=r"generator_encoder loss returns \['gap', 'total'\], not a value for each"):
        model.repeated_update(state, "generator_encoder", misnamed, [(x, z)])


def test_computation_key_tells_functions_apart_by_what_they_close_over_and_default_to():
    def make(scale):
        return lambda v: v * scale

    assert computation_key(make(2.0)) == computation_key(make(2.0))
    assert computation_key(make(2.0)) != computation_key(make(3.0))
    assert computation_key(lambda v: v + 1) != computation_key(lambda v: v - 1)
    with_default = [lambda v, t=t: v * t for t in (False, True)]  # one line: the same code
    assert computation_key(with_default[0]) != computation_key(with_default[1])

    model, _, _ = _tiny_ogan()
    assert computation_key(model.objective) == computation_key(model.objective)
    assert computation_key(model.objective) != computation_key(model.encode)


@pytest.mark.parametrize("name", ["aegan", "ogan"])
def test_a_model_computes_its_initial_weights_only_when_read_and_the_same_as_built_eagerly(name, monkeypatch):
    """engine.weights_on_demand: building runs no initializer (under JAX, traces no program); the
    state then read is the one that building with every weight computed at once gives, at every
    read; and state_template has its structure, shapes and dtypes."""
    import contextlib

    from runs import registry

    def build():
        keras.utils.set_random_seed(0)
        return registry.build(registry.get(name).make_config("tiny"))

    traced = engine.stage_seconds().get("traced")
    model = build()
    assert engine.stage_seconds().get("traced") == traced  # None under TensorFlow
    state = model.initial_state()
    monkeypatch.setattr(engine, "weights_on_demand", contextlib.nullcontext)
    eager = build().initial_state()
    flat, flat_eager = keras.tree.flatten(state), keras.tree.flatten(eager)
    assert len(flat) == len(flat_eager) > 0
    for a, b, again in zip(flat, flat_eager, keras.tree.flatten(model.initial_state()), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, again)
    template = keras.tree.flatten(model.state_template())
    assert [(np.shape(a), np.asarray(a).dtype) for a in template] == [(np.shape(a), np.asarray(a).dtype) for a in flat]
    if engine.WEIGHTS_BUILT:  # TensorFlow: the initial state itself (PureModel.state_template)
        for a, b in zip(template, flat, strict=True):
            np.testing.assert_array_equal(a, b)
    else:
        assert not any(np.any(np.asarray(a)) for a in template)
