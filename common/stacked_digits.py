"""Stacked digits, the dataset of the Stacked-MNIST protocol (Metz et al. 2017) on the embedded
scikit-learn digits: a training stream, held-out test images and real samples.

Every image stacks three digits, drawn independently from the training split, as its red,
green and blue channels, so there are 10 x 10 x 10 = 1,000 modes, one per triple. The digits
are upscaled from 8x8 as the embedded default's are. What reads the modes back out of a set
of samples is the benchmark's (collapse/digit_reader.py).
"""

import numpy as np

from common import data

NAME = "stacked-digits"
MODES = 1000
SAMPLES = 26_000  # the protocol's count of samples per run


def split_digits(resolution):
    """(train, test): (upscaled single-channel images (N, R, R) uint8, labels (N,)), split as the
    embedded default is."""
    from sklearn.datasets import load_digits

    images = data.digits_images(resolution)[..., 0]
    labels = load_digits().target
    order = np.random.default_rng(data.SPLIT_SEED).permutation(len(images))
    n_test = int(round(len(images) * data.TEST_FRACTION))
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])


def stack(digit_images, rng, n):
    """n images whose channels are three independently drawn digits, and their (n, 3) indices."""
    idx = rng.integers(0, len(digit_images), size=(n, 3))
    return np.stack([digit_images[idx[:, c]] for c in range(3)], axis=-1), idx


class Stream:
    """The training split as an unbounded stream: what `RoundSampler` draws from."""

    def __init__(self, resolution):
        (self.digits, self.labels), _ = split_digits(resolution)

    def __len__(self):  # the number of distinct digits the stream draws from
        return len(self.digits)

    def sampler(self, batch_size, images_per_round, latents_per_round, latent_dim, seed):
        return StackedSampler(self, batch_size, images_per_round, latents_per_round, latent_dim, seed)


class StackedSampler(data.RoundSampler):
    """RoundSampler whose images are fresh triples drawn for every round, a pure function of
    (seed, round) like every other batch. Digits are not mirrored: a flipped digit is not one."""

    def __init__(self, stream, batch_size, images_per_round, latents_per_round, latent_dim, seed):
        super().__init__(stream.digits, batch_size, images_per_round, latents_per_round, latent_dim,
                         seed, mirror=False)

    def _images(self, r, count):
        return stack(self.images, np.random.default_rng([self.seed, 0, r]), count)[0]


def test_images(resolution, n=2500):
    """n stacked images of held-out digits (the same every time): the runs' test images."""
    _, (digits, _) = split_digits(resolution)
    return stack(digits, np.random.default_rng([data.SPLIT_SEED, 3]), n)[0]


def real_samples(resolution, n=SAMPLES, seed=0):
    """n stacked training digits and their (n, 3) labels: what a perfect generator draws."""
    (digits, labels), _ = split_digits(resolution)
    images, idx = stack(digits, np.random.default_rng([seed, 4]), n)
    return images, labels[idx]
