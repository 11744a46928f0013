"""The AEGAN objective (paper eq. 2-7), one pure keras.ops function per term."""

from keras import ops


def adversarial_loss(logits, target):
    # eq. 2-5: binary cross-entropy of a discriminator's output against a (smoothed) label.
    return ops.mean(ops.binary_crossentropy(ops.full_like(logits, target), logits, from_logits=True))


def image_reconstruction_loss(x, x_reconstructed):
    # eq. 6, first term: E ||G(E(x)) - x||_1, as the mean absolute error per pixel.
    return ops.mean(ops.abs(x_reconstructed - ops.cast(x, x_reconstructed.dtype)))


def latent_reconstruction_loss(z, z_reconstructed):
    # eq. 6, second term: E ||E(G(z)) - z||_2, as the authors' mean squared error.
    return ops.mean(ops.square(z_reconstructed - ops.cast(z, z_reconstructed.dtype)))
