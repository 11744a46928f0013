"""Keras layers set to compute what the authors' TensorFlow (tf_keras) layers compute, in any
precision: two constants it holds in float32 even in a float64 run (docs/equivalence.md).
Both change nothing in a float32 run; in float64 they keep our replays of the authors'
recordings exact (tests/test_authors_equivalence.py).
"""

import numpy as np
from keras import layers

# tf_keras steps BatchNorm's moving averages by (1 - momentum) converted to a float32 tensor.
BATCHNORM_MOMENTUM = 1.0 - float(np.float32(1.0 - 0.99))


def leaky_relu(slope):
    # TensorFlow's LeakyRelu kernel holds its slope as a float32 attribute; under JAX a float64
    # run would otherwise use the slope exactly.
    return layers.LeakyReLU(negative_slope=float(np.float32(slope)))


def batch_norm(name, **options):
    """BatchNormalization with the authors' momentum, 0.99 as tf_keras applies it."""
    return layers.BatchNormalization(momentum=BATCHNORM_MOMENTUM, name=name, **options)
