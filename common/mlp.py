"""The dense networks that stand in for the convolutional ones on 2-D points (the
mode-collapse benchmark, collapse/mixtures.py): same losses and updates, other networks.

Two settings: "mlp", this project's own small networks (3 hidden layers), and "pacgan", the
networks of PacGAN's 2-D experiments (Lin et al. 2018, its public code), under which its
published figures were measured: G 4 x 400 ReLU units with BatchNorm, D 3 maxout layers of
200 units x 5 pieces, weights N(0, 0.02) and biases 0.
"""

import keras
from keras import layers, ops

POINT_DIM = 2
POINT_ARCHITECTURES = ("mlp", "pacgan")

PACGAN_GENERATOR = (4, 400)  # hidden layers, units
PACGAN_DISCRIMINATOR = (3, 200, 5)  # hidden layers, units, maxout pieces
# Its population statistics move 5 % of the way to each batch's (Blocks: p * 0.95 + m * 0.05),
# and its samples are drawn with them (inference mode).
PACGAN_BATCHNORM_MOMENTUM = 0.95


def hidden_layers(x, units, activation, count=3):
    for i in range(count):
        x = activation()(layers.Dense(units, name=f"hidden{i}_dense")(x))
    return x


def _normal():
    return keras.initializers.RandomNormal(0.0, 0.02)


class Maxout(layers.Layer):
    """The largest of each group of `pieces` consecutive features: (batch, units * pieces) -> (batch, units)."""

    def __init__(self, pieces, **kwargs):
        super().__init__(**kwargs)
        self.pieces = pieces

    def call(self, x):
        return ops.max(ops.reshape(x, (-1, x.shape[-1] // self.pieces, self.pieces)), axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], shape[-1] // self.pieces)

    def get_config(self):
        return {**super().get_config(), "pieces": self.pieces}


def pacgan_generator_layers(x):
    """PacGAN's generator body (also its encoders' here): Dense without bias -> BatchNorm -> ReLU."""
    count, units = PACGAN_GENERATOR
    for i in range(count):
        x = layers.Dense(units, use_bias=False, kernel_initializer=_normal(), name=f"hidden{i}_dense")(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=PACGAN_BATCHNORM_MOMENTUM, name=f"hidden{i}_norm")(x))
    return x


def pacgan_discriminator_layers(x):
    """PacGAN's discriminator body (also its latent discriminators' here): linear maxout layers."""
    count, units, pieces = PACGAN_DISCRIMINATOR
    for i in range(count):
        x = layers.Dense(units * pieces, kernel_initializer=_normal(), name=f"hidden{i}_dense")(x)
        x = Maxout(pieces, name=f"hidden{i}_maxout")(x)
    return x


def output_layer(units, name, dtype, architecture):
    """The linear output: under "pacgan" initialised as its hidden layers are."""
    init = _normal() if architecture == "pacgan" else "glorot_uniform"
    return layers.Dense(units, kernel_initializer=init, name=name, dtype=dtype)


def body(x, architecture, role, hidden_units, activation):
    """The hidden layers of a point network: role "generator" (G, and E) or "discriminator"."""
    if architecture == "pacgan":
        return pacgan_generator_layers(x) if role == "generator" else pacgan_discriminator_layers(x)
    return hidden_layers(x, hidden_units, activation)
