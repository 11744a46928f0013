"""O-GAN's encoder E and generator G: the DCGAN of the paper's Table 1, for any 2^k resolution.

Channels double from 64 per stride-2 block down to 4x4 (64 ... 1024 at 128x128, i.e. at
most 8 x resolution), and halve again going up in G.
"""

import keras
from keras import layers


def _normal():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _channels(cfg):
    return [cfg.base_channels * 2 ** i for i in range(cfg.blocks)]


def build_encoder(cfg):
    """E: image -> R^z_dim. Its mean over dimensions is the discriminator's score (eq. 8)."""
    x = keras.Input((cfg.resolution, cfg.resolution, 3), name="image")
    h = x
    for i, channels in enumerate(_channels(cfg)):
        h = layers.Conv2D(channels, cfg.kernel_size, strides=2, padding="same",
                          kernel_initializer=_normal(), name=f"block{i}_conv")(h)
        if i > 0:  # no BatchNorm on the first block (DCGAN)
            h = layers.BatchNormalization(name=f"block{i}_norm")(h)
        h = layers.LeakyReLU(negative_slope=cfg.leaky_slope)(h)
    z = layers.Dense(cfg.z_dim, kernel_initializer=_normal(), name="to_latent")(layers.Flatten()(h))
    return keras.Model(x, z, name="encoder")


def build_generator(cfg):
    """G: z -> image in [-1, 1]."""
    channels = _channels(cfg)[::-1]
    z = keras.Input((cfg.z_dim,), name="z")
    h = layers.Dense(4 * 4 * channels[0], kernel_initializer=_normal(), name="from_latent")(z)
    h = layers.Reshape((4, 4, channels[0]))(h)
    h = layers.ReLU()(layers.BatchNormalization(name="from_latent_norm")(h))
    for i, c in enumerate(channels[1:]):
        h = layers.Conv2DTranspose(c, cfg.kernel_size, strides=2, padding="same",
                                   kernel_initializer=_normal(), name=f"block{i}_deconv")(h)
        h = layers.ReLU()(layers.BatchNormalization(name=f"block{i}_norm")(h))
    image = layers.Conv2DTranspose(3, cfg.kernel_size, strides=2, padding="same", activation="tanh",
                                   kernel_initializer=_normal(), name="to_image")(h)
    return keras.Model(z, image, name="generator")
