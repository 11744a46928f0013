"""Stacked digits (the Stacked-MNIST protocol on the embedded digits): the stream, the digit
classifier the report quotes (collapse/digit_reader.py), the mode figures, and mode_collapse.py on it."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from collapse import digit_reader
from common import data, stacked_digits


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def classifier(cache):
    return digit_reader.Classifier(32, cache)


def test_batches_are_three_training_digits_and_a_pure_function_of_seed_and_round():
    stream = stacked_digits.Stream(32)
    sampler = stream.sampler(batch_size=6, images_per_round=2, latents_per_round=1, latent_dim=4, seed=5)
    images, latents = sampler.round(3)
    assert images.shape == (2, 6, 32, 32, 3) and latents.shape == (1, 6, 4)
    again = stream.sampler(6, 2, 1, 4, seed=5).round(3)
    np.testing.assert_array_equal(images, again[0])
    np.testing.assert_array_equal(latents, again[1])
    assert not np.array_equal(images, sampler.round(4)[0])
    digits = data.to_float(stream.digits)
    for image in images.reshape(-1, 32, 32, 3):
        for c in range(3):  # every channel is one training digit, whole
            assert np.min(np.abs(digits - image[..., c]).max(axis=(1, 2))) == 0
    # the channels are drawn independently: they differ within most images
    flat = images.reshape(-1, 32 * 32, 3)
    assert np.mean([not np.array_equal(f[:, 0], f[:, 1]) for f in flat]) > 0.8


def test_the_classifier_reads_held_out_digits_after_the_round_trip_and_is_cached(classifier, cache):
    assert classifier.accuracy >= 0.97  # the README's figure
    (cached,) = os.listdir(cache)
    assert cached.startswith("stacked-digits-classifier-32px")
    again = digit_reader.Classifier(32, cache)
    images = stacked_digits.test_images(32, n=50)
    assert again.accuracy == classifier.accuracy
    np.testing.assert_array_equal(again.read(images)[0], classifier.read(images)[0])


def test_mode_figures_by_hand():
    digits = np.array([[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]])
    confidence = np.array([[0.9, 0.9, 0.9], [0.9, 0.4, 0.9], [0.6, 0.6, 0.6], [1.0, 1.0, 1.0]])
    figures = digit_reader.mode_figures(digits, confidence)
    assert figures["modes"] == 2
    assert figures["kl"] == pytest.approx(math.log(500))  # two modes of 1,000, half each
    assert figures["confident"] == 0.75


def test_real_stacked_digits_cover_every_mode(classifier):
    images, labels = stacked_digits.real_samples(32)
    assert images.shape == (stacked_digits.SAMPLES, 32, 32, 3)
    digits, confidence = classifier.read(images[:3000])
    assert np.mean(digits == labels[:3000]) > 0.97
    figures = digit_reader.mode_figures(*classifier.read(images))
    assert figures["modes"] >= 990 and figures["kl"] < 0.05


@pytest.mark.slow
@pytest.mark.backend_agnostic
def test_mode_collapse_on_stacked_digits_with_its_curve_and_fig3_per_seed(tmp_path):
    run = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "mode_collapse.py"),
                          "--data", "stacked-digits", "--models", "aegan,gan", "--preset", "tiny", "--seeds", "1",
                          "--steps", "8", "--curve-every", "4", "--cache-dir", str(tmp_path / "cache"),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "of the held-out digits read back correctly" in run.stdout
    report = json.load(open(tmp_path / "mode_collapse.json"))
    aegan, row = report["runs"]  # AEGAN first: a table whose first model has more figures than the next
    assert (aegan["model"], row["model"]) == ("aegan", "gan") and "l1" in aegan and "l1" not in row
    assert row["of"] == 1000 and 1 <= row["modes"] <= 1000 and row["collapsed"] == (row["modes"] < 900)
    assert report["real_held_out"]["modes"] >= 990 and report["real_held_out"]["classifier_accuracy"] >= 0.97
    assert np.load(tmp_path / "gan-seed0" / "digits.npy").shape == (stacked_digits.SAMPLES, 3)
    curve = json.load(open(tmp_path / "mode_collapse_curve.json"))["rows"][2:]
    assert [(r["model"], r["step"]) for r in curve] == [("gan", 4), ("gan", 8)]
    assert curve[-1]["modes"] == row["modes"]  # the last checkpoint is the run's final state
    assert (tmp_path / "mode_collapse_curve.png").stat().st_size > 0
    assert "| gan seed 0 | 8 |" in (tmp_path / "mode_collapse_curve.md").read_text()
    assert "| gan | " in (tmp_path / "mode_collapse.md").read_text()
    from PIL import Image

    panel = Image.open(tmp_path / "fig3_seeds.png")  # one seed: two 10x10 grids of 32x32 side by side
    assert panel.size[0] == 2 * (10 * 32 + 11) + 8 and panel.size[1] > 10 * 32
    # generator_modes.py reads the same z in both of G's modes; in inference mode it is the row's figure.
    modes = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "generator_modes.py"),
                            str(tmp_path / "aegan-seed0"), "--batch", "100", "--cache-dir", str(tmp_path / "cache")],
                           capture_output=True, text=True, timeout=600, check=False)
    assert modes.returncode == 0, modes.stderr[-2000:]
    found = json.load(open(tmp_path / "aegan-seed0" / "generator_modes.json"))
    assert abs(found["inference"]["modes"] - aegan["modes"]) <= max(2, aegan["modes"] // 100)
    assert 1 <= found["training"]["modes"] <= 1000 and -1 <= found["training"]["rho"] <= 1
    assert "training mode:" in modes.stdout
