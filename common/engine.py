"""The only backend-aware code: gradients, compilation and loops over a training state of arrays.

Models are written once as pure functions of their state (see `aegan/models.py`): every
network is called with `stateless_call`, every optimizer with `stateless_apply`. This module
supplies what differs between TensorFlow and JAX: taking gradients of such a function,
compiling it into one XLA program, and looping over a stacked input inside that program so
that an update used four times in a round is compiled once.
"""

import keras

BACKEND = keras.backend.backend()

if BACKEND == "jax":
    import jax

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""
        return jax.value_and_grad(fn, has_aux=True)

    def compile(fn, jit=True):
        return jax.jit(fn) if jit else fn

    def scan(body, carry, xs):
        """body(carry, x) -> (carry, y) over the leading axis of xs; returns (carry, stacked ys)."""
        return jax.lax.scan(body, carry, xs)

    def to_numpy(tree):
        return jax.tree_util.tree_map(lambda a: jax.device_get(a), tree)

elif BACKEND == "tensorflow":
    import numpy as np
    import tensorflow as tf

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""

        def wrapped(params, *args):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss, aux = fn(params, *args)
            grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return (loss, aux), grads

        return wrapped

    def compile(fn, jit=True):
        return tf.function(fn, jit_compile=jit, reduce_retracing=True)

    def scan(body, carry, xs):
        """body(carry, x) -> (carry, y) over the leading axis of xs; returns (carry, stacked ys).

        y must be one float32 tensor. A while loop, not an unrolled one, so XLA compiles
        the body once.
        """
        n = tf.nest.flatten(xs)[0].shape[0]

        def step(i, carry, ys):
            x = tf.nest.map_structure(lambda a: tf.gather(a, i), xs)
            carry, y = body(carry, x)
            return i + 1, carry, ys.write(i, y)

        ys = tf.TensorArray(tf.float32, size=n)
        _, carry, ys = tf.while_loop(lambda i, *_: i < n, step, (tf.constant(0), carry, ys),
                                     parallel_iterations=1)
        return carry, ys.stack()

    def to_numpy(tree):
        return tf.nest.map_structure(lambda a: np.asarray(a), tree)

else:
    raise ImportError(f"KERAS_BACKEND={BACKEND!r} is not supported: use tensorflow (default) or jax")
