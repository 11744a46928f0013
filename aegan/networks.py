"""The four AEGAN networks, G, E, Dx and Dz, exactly as the authors built them (where they
depart from the paper: the README, "Where the paper and the authors' code differ").

The discriminators return logits: the authors' Keras 2 binary cross-entropy read the logit
behind their final sigmoid, so computing the loss from logits is the same arithmetic.

Each network's inputs and output layer take the policy's variable dtype (`io_dtype`): float32
under a mixed precision policy (`precision` in the config), so outputs and losses stay float32,
and float64 in a float64 run.
"""

import math

import keras
from keras import layers

from common import mlp
from common.keras2_layers import leaky_relu
from common.model import io_dtype

GENERATOR_CHANNELS = (256, 128, 128, 64, 64)
ENCODER_CHANNELS = (64, 64, 128, 128, 128, 256)
SEED_CHANNELS = 64  # the generator's 4x4 seed and its side branch


def _normal():
    # A fresh initializer per layer: the authors shared one instance, which under current
    # TF gives same-shaped layers identical weights.
    return keras.initializers.RandomNormal(0.0, 0.02)


def _channels(n, width):
    return max(1, round(n * width))


def _halvings(resolution):
    """How many factor-2 resamplings separate 4x4 from the image size."""
    return int(math.log2(resolution // 4))


def build_generator(cfg):
    """G: z -> image in [-1, 1]. A 4x4 main path plus a side branch of z fed to every block."""
    z = keras.Input((cfg.latent_dim,), name="z", dtype=io_dtype())
    if cfg.architecture in mlp.POINT_ARCHITECTURES:
        h = mlp.body(z, cfg.architecture, "generator", cfg.hidden_units, layers.ReLU)
        point = mlp.output_layer(mlp.POINT_DIM, "to_point", io_dtype(), cfg.architecture)(h)
        return keras.Model(z, point, name="generator")
    seed = _channels(SEED_CHANNELS, cfg.width)
    main = layers.Dense(4 * 4 * seed, kernel_initializer=_normal(), name="main_dense")(z)
    main = layers.LayerNormalization(epsilon=1e-3, name="main_norm")(main)
    main = layers.Reshape((4, 4, seed))(layers.ReLU()(main))
    side = layers.Dense(seed, name="side_dense")(z)  # default (Glorot) init, as the authors'
    side = layers.LayerNormalization(epsilon=1e-3, name="side_norm")(side)
    side = layers.UpSampling2D(4)(layers.Reshape((1, 1, seed))(layers.ReLU()(side)))
    ups = _halvings(cfg.resolution)
    factors = [2] * ups + [1] * (len(GENERATOR_CHANNELS) - ups)
    for i, (channels, factor) in enumerate(zip(GENERATOR_CHANNELS, factors)):
        h = layers.UpSampling2D(factor)(layers.Concatenate()([main, side]))
        side = layers.UpSampling2D(factor)(side)
        h = layers.Conv2D(_channels(channels, cfg.width), 4, padding="same",
                          kernel_initializer=_normal(), name=f"block{i}_conv")(h)
        h = layers.LayerNormalization(epsilon=1e-3, name=f"block{i}_norm")(h)
        main = layers.ReLU()(h)
    h = layers.Concatenate()([main, side])
    image = layers.Conv2D(3, 4, padding="same", activation="tanh",
                          kernel_initializer=_normal(), name="to_image", dtype=io_dtype())(h)
    return keras.Model(z, image, name="generator")


def _conv_stack(x, cfg, kernel, activation):
    """The block structure E and Dx share: Conv -> GaussianDropout -> LayerNorm -> activation."""
    downs = _halvings(cfg.resolution)
    strides = [2] * downs + [1] * (len(ENCODER_CHANNELS) - downs)
    for i, (channels, stride) in enumerate(zip(ENCODER_CHANNELS, strides)):
        x = layers.Conv2D(_channels(channels, cfg.width), kernel, strides=stride, padding="same",
                          kernel_initializer=_normal(), name=f"block{i}_conv")(x)
        x = layers.GaussianDropout(cfg.dropout_rate)(x)
        x = layers.LayerNormalization(epsilon=1e-3, name=f"block{i}_norm")(x)
        x = activation()(x)
    return layers.Flatten()(x)


def build_encoder(cfg):
    """E: image -> z, linear output."""
    if cfg.architecture in mlp.POINT_ARCHITECTURES:  # G's layers, mirrored
        x = keras.Input((mlp.POINT_DIM,), name="point", dtype=io_dtype())
        h = mlp.body(x, cfg.architecture, "generator", cfg.hidden_units, layers.ReLU)
        z = mlp.output_layer(cfg.latent_dim, "to_latent", io_dtype(), cfg.architecture)(h)
        return keras.Model(x, z, name="encoder")
    x = keras.Input((cfg.resolution, cfg.resolution, 3), name="image", dtype=io_dtype())
    h = layers.GaussianNoise(cfg.input_noise)(x)
    h = _conv_stack(h, cfg, kernel=4, activation=layers.ReLU)
    z = layers.Dense(cfg.latent_dim, kernel_initializer=_normal(), name="to_latent", dtype=io_dtype())(h)
    return keras.Model(x, z, name="encoder")


def build_image_discriminator(cfg):
    """Dx: image -> logit of 'real'."""
    if cfg.architecture in mlp.POINT_ARCHITECTURES:
        x = keras.Input((mlp.POINT_DIM,), name="point", dtype=io_dtype())
        h = mlp.body(x, cfg.architecture, "discriminator", cfg.hidden_units,
                     lambda: layers.LeakyReLU(negative_slope=0.2))
        logit = mlp.output_layer(1, "to_logit", io_dtype(), cfg.architecture)(h)
        return keras.Model(x, logit, name="discriminator_image")
    x = keras.Input((cfg.resolution, cfg.resolution, 3), name="image", dtype=io_dtype())
    h = layers.GaussianNoise(cfg.input_noise)(x)
    h = _conv_stack(h, cfg, kernel=3,
                    activation=lambda: leaky_relu(cfg.leaky_slope))
    logit = layers.Dense(1, kernel_initializer=_normal(), name="to_logit", dtype=io_dtype())(h)
    return keras.Model(x, logit, name="discriminator_image")


def build_latent_discriminator(cfg):
    """Dz: z -> logit of 'drawn from N(0, I)'. Densely connected: each block sees all before it."""
    z = keras.Input((cfg.latent_dim,), name="z", dtype=io_dtype())
    if cfg.architecture == "pacgan":  # Dx's layers, on the latent
        h = mlp.pacgan_discriminator_layers(z)
        return keras.Model(z, mlp.output_layer(1, "to_logit", io_dtype(), "pacgan")(h), name="discriminator_latent")
    features = layers.GaussianNoise(cfg.input_noise)(z)
    for i in range(cfg.latent_blocks):
        h = layers.Dense(cfg.latent_block_units, name=f"block{i}_dense")(features)
        h = layers.GaussianDropout(cfg.dropout_rate)(h)
        h = layers.LayerNormalization(epsilon=1e-3, name=f"block{i}_norm")(h)
        h = leaky_relu(cfg.leaky_slope)(h)
        features = layers.Concatenate()([features, h])
    h = layers.Dense(128, name="head_dense")(features)
    h = leaky_relu(cfg.leaky_slope)(h)
    logit = layers.Dense(1, name="to_logit", dtype=io_dtype())(h)
    return keras.Model(z, logit, name="discriminator_latent")


BUILDERS = {
    "generator": build_generator,
    "encoder": build_encoder,
    "discriminator_image": build_image_discriminator,
    "discriminator_latent": build_latent_discriminator,
}


def build_networks(cfg, names):
    return {name: BUILDERS[name](cfg) for name in names}
