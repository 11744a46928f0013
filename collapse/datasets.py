"""A benchmark's data: the training set, the held-out set, and the yardstick its samples are
read with, for each kind of dataset the benchmarks take.

- ring8, grid25: PacGAN's 2-D Gaussian mixtures (collapse/mixtures.py); modes covered.
- stacked-digits: 1,000 modes of stacked embedded digits (common/stacked_digits.py), read back
  by a digit classifier (collapse/digit_reader.py), real stacked digits its reference.
- a folder or zip of images: NDB/K and JSD over K-means bins of the training split, and
  diversity and near-duplicates against held-out real images (common/evaluation.py).
"""

import dataclasses
import os

from collapse import mixtures
from collapse.protocols import SAMPLES


@dataclasses.dataclass
class Benchmark:
    train: object  # what runs.fit trains on: an array, or stacked digits' stream
    test: object  # held-out images or points
    source: str  # the name or path a run's checkpoints record as its data
    points: str | None  # the mixture's name on the 2-D benchmark, else None
    reference: object  # what reads a run's samples (None on the 2-D benchmark)
    real: dict  # the reference's figures for real data, the rule's yardstick


def is_points(data):
    return data in mixtures.MIXTURES


def load(data, resolution=None, center_crop=False, cache_dir=None, bins=100):
    """The Benchmark of `data`: a mixture's name, stacked-digits, or a folder or zip of images
    at `resolution`."""
    if is_points(data):
        return Benchmark(mixtures.sample(data, 50_000, seed=0), mixtures.sample(data, SAMPLES, seed=1), data,
                         data, None, {})
    import runs
    from collapse import digit_reader
    from common import evaluation, stacked_digits

    train, test, source = runs.load_split(data, resolution, center_crop=center_crop, cache_dir=cache_dir)
    if source == stacked_digits.NAME:
        reference = digit_reader.Reference(resolution, cache_dir)
        print(f"digit classifier: {reference.classifier.accuracy:.1%} of the held-out digits read "
              f"back correctly after the round trip to {resolution}x{resolution}")
        return Benchmark(train, test, source, None, reference,
                         {**reference.real, "classifier_accuracy": reference.classifier.accuracy})
    print(f"K-means bins ({bins}) of {len(train)} training images ...")
    reference = evaluation.Reference(train, test, k=bins)
    return Benchmark(train, test, source, None, reference, reference.real)


def title(benchmark, names, seed_words, steps, preset, protocol):
    """A report's title: the data, the models and seeds, and the schedule."""
    if benchmark.points:
        return f"{benchmark.points}: {len(names)} models x {seed_words}, {steps} steps, protocol {protocol}"
    return f"{os.path.basename(str(benchmark.source))}: {len(names)} models x {seed_words}, preset {preset}"
