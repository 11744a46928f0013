"""The only backend-aware code: taking gradients and compiling pure functions of a state.

Models are written once as pure functions of their state (see `aegan/models.py`): every
network is called with `stateless_call` and every optimizer is a pure function
(`common/optimizer.py`). This module supplies what differs between TensorFlow and JAX:
the gradient of such a function, and compiling it into one XLA program.
"""

import keras

BACKEND = keras.backend.backend()

if BACKEND == "jax":
    import jax

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""
        return jax.value_and_grad(fn, has_aux=True)

    def compile(fn, xla_on_cpu=True):
        return jax.jit(fn)  # JAX always compiles with XLA


    def to_numpy(tree):
        return jax.tree_util.tree_map(lambda a: jax.device_get(a), tree)

elif BACKEND == "tensorflow":
    import numpy as np
    import tensorflow as tf

    def value_and_grad(fn):
        """fn(params, *args) -> (loss, aux)  becomes  f(params, *args) -> ((loss, aux), grads)."""

        def wrapped(params, *args):
            params = tf.nest.map_structure(tf.convert_to_tensor, params)  # eager NumPy too
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss, aux = fn(params, *args)
            grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return (loss, aux), grads

        return wrapped

    ON_GPU = bool(tf.config.list_physical_devices("GPU"))

    def compile(fn, xla_on_cpu=True):
        """A graph function, XLA-compiled on GPU, and on CPU unless the model says XLA:CPU is slower
        there (TF's own CPU kernels then run the graph)."""
        return tf.function(fn, jit_compile=ON_GPU or xla_on_cpu, reduce_retracing=True)


    def to_numpy(tree):
        return tf.nest.map_structure(lambda a: np.asarray(a), tree)

else:
    raise ImportError(f"KERAS_BACKEND={BACKEND!r} is not supported: use tensorflow (default) or jax")
