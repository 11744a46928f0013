"""The benchmarks' datasets, by name: each gives a training set, a held-out set, and the
yardstick a run's samples are read with. A new dataset is a module and one `register` call.

- ring8, grid25: PacGAN's 2-D Gaussian mixtures (collapse/mixtures.py); modes covered.
- stacked-digits: 1,000 modes of stacked embedded digits (common/stacked_digits.py), read back
  by a digit classifier (collapse/digit_reader.py), real stacked digits its reference.
- any other name is a folder or zip of images: NDB/K and JSD over K-means bins of the training
  split, and diversity and near-duplicates against held-out real images (common/evaluation.py).
"""

import dataclasses
import os

import numpy as np

from collapse import mixtures
from collapse.protocols import SAMPLES


@dataclasses.dataclass
class Benchmark:
    train: object  # what runs.fit trains on: an array, or an object with a `sampler` method
    test: np.ndarray  # held-out images or points
    source: str  # the name or path a run's checkpoints record as its data
    points: str | None  # a 2-D dataset's name (trained under a 2-D protocol), else None
    yardstick: object  # draw(inference, state, latent_dim, seed) and read(samples), below
    real: dict  # the yardstick's figures for real data, the collapse rule's reference


@dataclasses.dataclass
class Entry:
    load: object  # function(resolution, center_crop, cache_dir, bins) -> Benchmark
    points: bool  # 2-D points, trained under a 2-D protocol (--protocol), rather than images


DATASETS = {}


def register(name, load, points=False):
    DATASETS[name] = Entry(load, points)


def is_points(data):
    return data in DATASETS and DATASETS[data].points


def load(data, resolution=None, center_crop=False, cache_dir=None, bins=100):
    """The Benchmark of `data`: a registered name, else a folder or zip of images at `resolution`."""
    entry = DATASETS.get(data, Entry(_images_at(data), False))
    return entry.load(resolution, center_crop, cache_dir, bins)


def title(benchmark, names, seed_words, steps, preset, protocol):
    """A report's title: the data, the models and seeds, and the schedule."""
    if benchmark.points:
        return f"{benchmark.points}: {len(names)} models x {seed_words}, {steps} steps, protocol {protocol}"
    return f"{os.path.basename(str(benchmark.source))}: {len(names)} models x {seed_words}, preset {preset}"


class MixtureYardstick:
    """Samples of a 2-D mixture: the modes they cover and their share of high-quality samples."""

    reconstructs = False  # a 2-D run is judged by its samples alone

    def __init__(self, name):
        self.name = name

    def draw(self, inference, state, latent_dim, seed):
        from common import evaluation

        return inference.generate(state, evaluation.latents(SAMPLES, latent_dim, seed))

    def read(self, samples):
        """(figures, {name: array saved beside the samples})."""
        return mixtures.coverage(self.name, samples), {}


class ImageYardstick:
    """uint8 samples read by a reference made once for the dataset (`reference.sample_metrics`)."""

    reconstructs = True

    def __init__(self, reference, samples=SAMPLES):
        self.reference, self.samples = reference, samples

    def draw(self, inference, state, latent_dim, seed):
        from common import evaluation

        return evaluation.draw_samples(inference, state, self.samples, latent_dim, seed)[0]

    def read(self, samples):
        return self.reference.sample_metrics(samples), {}


class DigitYardstick(ImageYardstick):
    """Stacked digits read back by the digit classifier: the protocol's 26,000 samples, and the
    digits read in each sample's channels kept beside them."""

    def __init__(self, reference):
        from common import stacked_digits

        super().__init__(reference, stacked_digits.SAMPLES)

    def read(self, samples):
        from common import stacked_digits

        row, digits = self.reference.sample_metrics(samples)
        return {**row, "of": stacked_digits.MODES}, {"digits": digits.astype(np.uint8)}


def _mixture(name):
    def load(resolution, center_crop, cache_dir, bins):
        return Benchmark(mixtures.sample(name, 50_000, seed=0), mixtures.sample(name, SAMPLES, seed=1), name,
                         name, MixtureYardstick(name), {})

    return load


def _stacked_digits(resolution, center_crop, cache_dir, bins):
    from collapse import digit_reader
    from common import stacked_digits

    reference = digit_reader.Reference(resolution, cache_dir)
    print(f"digit classifier: {reference.classifier.accuracy:.1%} of the held-out digits read "
          f"back correctly after the round trip to {resolution}x{resolution}")
    return Benchmark(stacked_digits.Stream(resolution), stacked_digits.test_images(resolution), stacked_digits.NAME,
                     None, DigitYardstick(reference),
                     {**reference.real, "classifier_accuracy": reference.classifier.accuracy})


def _images_at(path):
    def load(resolution, center_crop, cache_dir, bins):
        import runs
        from common import evaluation

        train, test, source = runs.load_split(path, resolution, center_crop=center_crop, cache_dir=cache_dir)
        print(f"K-means bins ({bins}) of {len(train)} training images ...")
        reference = evaluation.Reference(train, test, k=bins)
        return Benchmark(train, test, source, None, ImageYardstick(reference), reference.real)

    return load


for _name in mixtures.MIXTURES:
    register(_name, _mixture(_name), points=True)
register("stacked-digits", _stacked_digits)
