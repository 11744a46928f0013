"""Stacked digits: the Stacked-MNIST mode-collapse benchmark (Metz et al. 2017) on the embedded
scikit-learn digits, with 1,000 modes that a classifier can count.

Every image stacks three digits, drawn independently from the training split, as its red,
green and blue channels, so there are 10 x 10 x 10 = 1,000 modes, one per triple. The digits
are upscaled from 8x8 as the embedded default's are. A classifier trained on the same
training split reads each channel of an image back at 8x8; a set of samples is judged by the
triples it contains (`mode_figures`).
"""

import os
import pickle

import numpy as np
from PIL import Image

from common import data

NAME = "stacked-digits"
MODES = 1000
SAMPLES = 26_000  # the protocol's count of samples per run
CONFIDENT = 0.5  # a channel is read confidently when its digit's probability is above this


def _digits(resolution):
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
        (self.digits, self.labels), _ = _digits(resolution)

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
    _, (digits, _) = _digits(resolution)
    return stack(digits, np.random.default_rng([data.SPLIT_SEED, 3]), n)[0]


def real_samples(resolution, n=SAMPLES, seed=0):
    """n stacked training digits and their (n, 3) labels: what a perfect generator draws."""
    (digits, labels), _ = _digits(resolution)
    images, idx = stack(digits, np.random.default_rng([seed, 4]), n)
    return images, labels[idx]


def _read_back(channels):
    """(N, R, R) uint8 -> the classifier's features: each image at 8x8, in [0, 1]."""
    return np.stack([np.asarray(Image.fromarray(c).resize((8, 8), Image.BOX), np.float32)
                     for c in channels]).reshape(len(channels), 64) / 255.0


class Classifier:
    """A digit classifier (an RBF support-vector machine with calibrated probabilities) trained
    on the training split after the same round trip a generated channel takes: 8x8 -> the
    training resolution -> 8x8. Trained once per resolution and cached."""

    def __init__(self, resolution, cache_dir=None):
        import sklearn

        path = cache_dir and os.path.join(cache_dir, f"{NAME}-classifier-{resolution}px-sklearn{sklearn.__version__}.pkl")
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                self.model, self.accuracy = pickle.load(f)
            return
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        (train, train_labels), (test, test_labels) = _digits(resolution)
        self.model = CalibratedClassifierCV(SVC(C=10.0), ensemble=False)
        self.model.fit(_read_back(train), train_labels)
        self.accuracy = float(np.mean(self.model.predict(_read_back(test)) == test_labels))
        if path:
            from common.files import write_atomic

            os.makedirs(cache_dir, exist_ok=True)
            write_atomic(path, lambda f: pickle.dump((self.model, self.accuracy), f))

    def read(self, images):
        """uint8 (N, R, R, 3) -> the digits of each channel (N, 3) and their probabilities (N, 3)."""
        n = len(images)
        channels = np.moveaxis(np.asarray(images), -1, 1).reshape(n * 3, *images.shape[1:3])
        p = self.model.predict_proba(_read_back(channels))
        digits = self.model.classes_[p.argmax(1)]
        return digits.reshape(n, 3), p.max(1).reshape(n, 3)


def mode_figures(digits, confidence):
    """From the digits read in each channel: modes (distinct triples among the samples), KL of
    the triples' histogram from the uniform over 1,000, and the share read confidently."""
    triples = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    counts = np.bincount(triples, minlength=MODES)
    p = counts[counts > 0] / len(triples)
    return {"modes": int(np.count_nonzero(counts)), "kl": float(np.sum(p * np.log(p * MODES))),
            "confident": float(np.mean(np.all(confidence > CONFIDENT, axis=1)))}
