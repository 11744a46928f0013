"""Adam (with per-tensor gradient clipping) and RMSprop, as pure functions of their state.

Keras' own optimizers cannot run inside a pure (stateless) step under the TensorFlow
backend (their `stateless_apply` is refused there), so these are the same arithmetic as
`keras.optimizers.Adam(clipnorm=...)` and `keras.optimizers.RMSprop` written in keras.ops;
`tests/test_optimizer.py` checks them against Keras step by step.
"""

import dataclasses

import numpy as np
from keras import ops


@dataclasses.dataclass(frozen=True)
class Adam:
    learning_rate: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    clipnorm: float | None = None  # each gradient tensor clipped to this norm, as Keras 2 and 3

    def init(self, params):
        return {"step": _step_counter(params),
                "m": [np.zeros_like(p) for p in params],
                "v": [np.zeros_like(p) for p in params]}

    def apply(self, slots, grads, params):
        """Returns (new params, new slots)."""
        step = slots["step"] + 1.0
        # The bias correction takes the betas rounded to float32, as the authors' Adam (tf_keras)
        # does in any precision: its `tf.cast(self.beta_2, variable.dtype)` turns the Python
        # float into a float32 tensor first. In float64, 0.999 exact would change every first
        # step by 6.4e-6 of its size. The moments' (1 - beta) stay exact, as there.
        beta_1, beta_2 = np.float32(self.beta_1), np.float32(self.beta_2)
        alpha = (self.learning_rate * ops.sqrt(1.0 - ops.power(beta_2, step))
                 / (1.0 - ops.power(beta_1, step)))
        new_params, new_m, new_v = [], [], []
        for p, g, m, v in zip(params, grads, slots["m"], slots["v"]):
            g = ops.cast(g, p.dtype)
            if self.clipnorm is not None:
                g = _clip_by_norm(g, self.clipnorm)
            m = m + (g - m) * (1.0 - self.beta_1)
            v = v + (ops.square(g) - v) * (1.0 - self.beta_2)
            new_params.append(p - (m * alpha) / (ops.sqrt(v) + self.epsilon))
            new_m.append(m)
            new_v.append(v)
        return new_params, {"step": step, "m": new_m, "v": new_v}


@dataclasses.dataclass(frozen=True)
class RMSprop:
    learning_rate: float
    rho: float = 0.9
    epsilon: float = 1e-7

    def init(self, params):
        return {"step": _step_counter(params), "v": [np.zeros_like(p) for p in params]}

    def apply(self, slots, grads, params):
        """Returns (new params, new slots)."""
        new_params, new_v = [], []
        for p, g, v in zip(params, grads, slots["v"]):
            g = ops.cast(g, p.dtype)
            v = self.rho * v + (1.0 - self.rho) * ops.square(g)
            new_params.append(p - self.learning_rate * g / ops.sqrt(v + self.epsilon))
            new_v.append(v)
        return new_params, {"step": slots["step"] + 1.0, "v": new_v}


@dataclasses.dataclass(frozen=True)
class LossScale:
    """Dynamic loss scaling for float16, as `keras.optimizers.LossScaleOptimizer`: the loss is
    multiplied by `scale` before gradients are taken and the gradients divided by it after; a
    step whose gradients are not finite is skipped and halves the scale (not below 1), and `growth_steps`
    finite steps in a row double it."""

    initial_scale: float = 2.0 ** 15
    growth_steps: int = 2000

    def init(self):
        return {"scale": np.float32(self.initial_scale), "good_steps": np.zeros((), "float32")}

    def unscale(self, slots, grads):
        """Returns (the true gradients, whether all are finite)."""
        grads = [ops.cast(g, "float32") / slots["scale"] for g in grads]
        return grads, every_finite(grads)

    def next(self, slots, finite):
        good = ops.where(finite, slots["good_steps"] + 1.0, 0.0)
        grow = good >= self.growth_steps
        scale = ops.where(finite, ops.where(grow, slots["scale"] * 2.0, slots["scale"]),
                          ops.maximum(slots["scale"] / 2.0, 1.0))
        return {"scale": scale, "good_steps": ops.where(grow, 0.0, good)}


def every_finite(arrays):
    """True when every element of every array is finite."""
    return ops.all(ops.stack([ops.all(ops.isfinite(a)) for a in arrays]))


def _step_counter(params):
    # In the weights' float dtype: Adam's bias correction is computed from it.
    return np.zeros((), np.asarray(params[0]).dtype if params else "float32")


def _clip_by_norm(g, clip):
    norm = ops.sqrt(ops.sum(ops.square(g)))
    return g * clip / ops.maximum(norm, clip)
