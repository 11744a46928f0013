"""O-GAN's encoder E and generator G: the DCGAN of the paper's Table 1, for any 2^k resolution.

Channels double from 64 per stride-2 block down to 4x4 (64 ... 1024 at 128x128, i.e. at
most 8 x resolution), and halve again going up in G.

Each network's inputs and output layer take the policy's variable dtype (`io_dtype`): float32
under a mixed precision policy (`precision` in the config), so outputs and losses stay float32,
and float64 in a float64 run.
"""

import keras
from keras import layers

from common import mlp
from common.keras2_layers import batch_norm, leaky_relu
from common.model import io_dtype


def _normal():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _channels(cfg):
    return [cfg.base_channels * 2 ** i for i in range(cfg.blocks)]


def build_encoder(cfg):
    """E: image -> R^latent_dim. Its mean over dimensions is the discriminator's score (eq. 8)."""
    if cfg.architecture in mlp.POINT_ARCHITECTURES:  # E is the discriminator: D's layers
        x = keras.Input((mlp.POINT_DIM,), name="point", dtype=io_dtype())
        h = mlp.body(x, cfg.architecture, "discriminator", cfg.hidden_units,
                     lambda: layers.LeakyReLU(negative_slope=cfg.leaky_slope))
        z = mlp.output_layer(cfg.latent_dim, "to_latent", io_dtype(), cfg.architecture)(h)
        return keras.Model(x, z, name="encoder")
    x = keras.Input((cfg.resolution, cfg.resolution, 3), name="image", dtype=io_dtype())
    h = x
    for i, channels in enumerate(_channels(cfg)):
        h = layers.Conv2D(channels, cfg.kernel_size, strides=2, padding="same",
                          kernel_initializer=_normal(), name=f"block{i}_conv")(h)
        if i > 0:  # no BatchNorm on the first block (DCGAN)
            h = batch_norm(f"block{i}_norm")(h)
        h = leaky_relu(cfg.leaky_slope)(h)
    z = layers.Dense(cfg.latent_dim, kernel_initializer=_normal(), name="to_latent", dtype=io_dtype())(layers.Flatten()(h))
    return keras.Model(x, z, name="encoder")


def build_head(cfg):
    """T of eq. 5: a separate score D(x) = T(E(x)), the option in place of avg(E(x))."""
    codes = keras.Input((cfg.latent_dim,), name="codes", dtype=io_dtype())
    return keras.Model(codes, layers.Dense(1, kernel_initializer=_normal(), name="score", dtype=io_dtype())(codes),
                       name="head")


def _normalise(h, z, cfg, name):
    """G's BatchNorm, or the authors' self-modulated one: BN(h) * (gamma(z) + 1) + beta(z)."""
    if cfg.generator_norm == "batch":
        return batch_norm(name)(h)
    channels = h.shape[-1]
    h = batch_norm(name, center=False, scale=False)(h)

    def modulation(kind):
        m = layers.Dense(cfg.latent_dim, activation="relu", name=f"{name}_{kind}_hidden")(z)
        return layers.Reshape((1, 1, channels))(layers.Dense(channels, name=f"{name}_{kind}")(m))

    return h * (modulation("gamma") + 1) + modulation("beta")


def build_generator(cfg):
    """G: z -> image in [-1, 1]."""
    if cfg.architecture in mlp.POINT_ARCHITECTURES:
        z = keras.Input((cfg.latent_dim,), name="z", dtype=io_dtype())
        h = mlp.body(z, cfg.architecture, "generator", cfg.hidden_units, layers.ReLU)
        point = mlp.output_layer(mlp.POINT_DIM, "to_point", io_dtype(), cfg.architecture)(h)
        return keras.Model(z, point, name="generator")
    channels = _channels(cfg)[::-1]
    z = keras.Input((cfg.latent_dim,), name="z", dtype=io_dtype())
    h = layers.Dense(4 * 4 * channels[0], kernel_initializer=_normal(), name="from_latent")(z)
    h = layers.Reshape((4, 4, channels[0]))(h)
    h = layers.ReLU()(_normalise(h, z, cfg, "from_latent_norm"))
    for i, c in enumerate(channels[1:]):
        h = layers.Conv2DTranspose(c, cfg.kernel_size, strides=2, padding="same",
                                   kernel_initializer=_normal(), name=f"block{i}_deconv")(h)
        h = layers.ReLU()(_normalise(h, z, cfg, f"block{i}_norm"))
    image = layers.Conv2DTranspose(3, cfg.kernel_size, strides=2, padding="same", activation="tanh",
                                   kernel_initializer=_normal(), name="to_image", dtype=io_dtype())(h)
    return keras.Model(z, image, name="generator")
