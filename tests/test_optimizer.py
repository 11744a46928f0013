"""Our pure Adam takes exactly the steps of keras.optimizers.Adam(clipnorm=...)."""

import keras
import numpy as np

from common.optimizer import Adam, RMSprop


def test_matches_keras_adam_with_clipnorm():
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32")]
    # Gradients of norm above and below the clip, so clipping is exercised both ways.
    grads = [[rng.normal(size=p.shape).astype("float32") * s for p, s in zip(params, (5.0, 0.1))]
             for _ in range(3)]
    variables = [keras.Variable(p) for p in params]
    reference = keras.optimizers.Adam(5e-4, beta_1=0.5, clipnorm=1.0)
    ours = Adam(5e-4, beta_1=0.5, clipnorm=1.0)
    slots, values = ours.init(params), params
    for g in grads:
        reference.apply([keras.ops.convert_to_tensor(x) for x in g], variables)
        values, slots = ours.apply(slots, g, values)
    for v, a in zip(variables, values):
        np.testing.assert_allclose(np.asarray(a), v.numpy(), rtol=1e-6, atol=1e-8)
    assert float(slots["step"]) == 3


def test_rmsprop_matches_keras():
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(5,)).astype("float32")]
    variables = [keras.Variable(params[0])]
    reference = keras.optimizers.RMSprop(1e-4, rho=0.99)
    ours = RMSprop(1e-4, rho=0.99)
    slots, values = ours.init(params), params
    for _ in range(3):
        g = [rng.normal(size=(5,)).astype("float32")]
        reference.apply([keras.ops.convert_to_tensor(g[0])], variables)
        values, slots = ours.apply(slots, g, values)
    np.testing.assert_allclose(np.asarray(values[0]), variables[0].numpy(), rtol=1e-6, atol=1e-8)
