"""The stacked-digits yardstick: a classifier reads each channel of a sample back as a digit, and a
set of samples is judged by the triples it holds (`mode_figures`), with real stacked digits read
through the same classifier as the reference (`Reference`)."""

import os
import pickle

import numpy as np
from PIL import Image

from common import stacked_digits

CONFIDENT = 0.5  # a channel is read confidently when its digit's probability is above this


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

        name = f"{stacked_digits.NAME}-classifier-{resolution}px-sklearn{sklearn.__version__}.pkl"
        path = cache_dir and os.path.join(cache_dir, name)
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                self.model, self.accuracy = pickle.load(f)
            return
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        (train, train_labels), (test, test_labels) = stacked_digits.split_digits(resolution)
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
    counts = np.bincount(triples, minlength=stacked_digits.MODES)
    p = counts[counts > 0] / len(triples)
    return {"modes": int(np.count_nonzero(counts)), "kl": float(np.sum(p * np.log(p * stacked_digits.MODES))),
            "confident": float(np.mean(np.all(confidence > CONFIDENT, axis=1)))}


class Reference:
    """What stacked-digit samples are read with: the digit classifier, and real stacked digits'
    own figures through it."""

    def __init__(self, resolution, cache_dir):
        self.classifier = Classifier(resolution, cache_dir)
        images, _ = stacked_digits.real_samples(resolution)
        self.real = self.sample_metrics(images)[0]

    def sample_metrics(self, samples):
        """(figures, the digits read in each sample's channels)."""
        digits, confidence = self.classifier.read(samples)
        return mode_figures(digits, confidence), digits
