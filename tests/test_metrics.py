"""Every metric on inputs whose answer is known."""

import numpy as np
import pytest

from common import data, metrics


@pytest.fixture(scope="module")
def digits():
    images = data.digits_images(16)
    order = np.random.default_rng(0).permutation(len(images))
    return images[order[:1200]], images[order[1200:]]


def test_jensen_shannon_bounds():
    assert metrics.jensen_shannon([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12)
    assert metrics.jensen_shannon([1, 0], [0, 1]) == pytest.approx(np.log(2))


def test_ndb_is_near_alpha_on_held_out_real_images_and_flags_three_copies(digits):
    train, held_out = digits
    bins = metrics.Bins(train, k=50, seed=0)
    real = bins.ndb_jsd(held_out)
    assert real["ndb_k"] <= 0.12, real  # alpha = 0.05; held-out images come from the same distribution
    copies = np.repeat(train[:3], len(held_out) // 3 + 1, axis=0)[:len(held_out)]
    collapsed = bins.ndb_jsd(copies)
    assert collapsed["ndb_k"] >= 0.8 and collapsed["jsd"] > 10 * real["jsd"], collapsed


def test_diversity_and_near_duplicates(digits):
    train, held_out = digits
    threshold = metrics.near_duplicate_threshold(train)
    copies = np.repeat(train[:3], 100, axis=0)
    assert metrics.near_duplicate_rate(copies, threshold) == 1.0
    assert metrics.near_duplicate_rate(held_out, threshold) < 0.05
    assert metrics.mean_pairwise_distance(copies) < 0.8 * metrics.mean_pairwise_distance(held_out)
    same = np.repeat(train[:1], 10, axis=0)
    assert metrics.mean_pairwise_distance(same) == 0.0


def test_l1_and_psnr_by_hand():
    x = np.zeros((2, 4, 4, 3), np.uint8)
    assert metrics.l1(x, x + 255) == pytest.approx(1.0)
    assert metrics.psnr(x, x + 255) == pytest.approx(0.0, abs=1e-6)
    # an error of 51/255 = 0.2 everywhere: MSE 0.04, PSNR 10 log10(25)
    assert metrics.psnr(x, x + 51) == pytest.approx(10 * np.log10(25), rel=1e-5)


def test_ssim_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    y = np.clip(x.astype(int) + rng.integers(-40, 40, x.shape), 0, 255).astype(np.uint8)
    expected = float(tf.reduce_mean(tf.image.ssim(tf.constant(x), tf.constant(y), max_val=255)))
    assert metrics.ssim(x, y) == pytest.approx(expected, abs=1e-4)
    assert metrics.ssim(x, x) == pytest.approx(1.0)


def test_sharpness_ratio_sees_blur(digits):
    from scipy import ndimage

    images = np.asarray(data.digits_images(32)[:20])
    blurred = ndimage.gaussian_filter(images.astype(float), sigma=(0, 1.5, 1.5, 0)).astype(np.uint8)
    assert metrics.sharpness_ratio(images, images) == pytest.approx(1.0)
    assert metrics.sharpness_ratio(blurred, images) < 0.5


def test_frechet_distance_against_the_diagonal_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    s1, s2 = rng.uniform(0.5, 2, 5), rng.uniform(0.5, 2, 5)
    closed = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(closed, rel=1e-8)
    a = rng.standard_normal((500, 8))
    assert metrics.fid_from_features(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_is_zero_in_expectation_for_one_distribution():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((1000, 16)), rng.standard_normal((1000, 16))
    same, _ = metrics.kid_from_features(a, b, subsets=5, subset_size=500)
    shifted, _ = metrics.kid_from_features(a, b + 1.0, subsets=5, subset_size=500)
    assert abs(same) < 0.02 and shifted > 0.5


def test_missing_inception_weights_is_one_clear_error(tmp_path):
    with pytest.raises(metrics.MetricsError, match="InceptionV3's ImageNet weights"):
        metrics.Inception(str(tmp_path / "no-such-weights.h5"))


@pytest.mark.parametrize("name, modes", [("ring8", 8), ("grid25", 25)])
def test_mixture_coverage(name, modes):
    from collapse import mixtures

    points = mixtures.sample(name, 2500, seed=0)
    full = mixtures.coverage(name, points)
    assert full["modes"] == modes and full["high_quality"] > 0.98  # 3 sigma holds 98.9% in 2D
    means, std = mixtures.mixture(name)
    collapsed = mixtures.coverage(name, np.repeat(means[:2], 1250, axis=0) + 0.5 * std)
    assert collapsed == {"modes": 2, "of": modes, "high_quality": 1.0}
    assert mixtures.coverage(name, np.full((10, 2), 100.0))["modes"] == 0


def test_mode_counts_counts_each_modes_high_quality_points():
    from collapse import mixtures

    means, std = mixtures.mixture("ring8")
    # 5 points on mode 0, 2 on mode 3 (one 2.9 sd off), 1 at 3.1 sd off mode 3 and 1 far away: not counted.
    points = np.concatenate([np.repeat(means[:1], 5, axis=0), means[3:4], means[3:4] + [2.9 * std, 0],
                             means[3:4] + [3.1 * std, 0], [[50.0, 50.0]]])
    assert mixtures.mode_counts("ring8", points).tolist() == [5, 0, 0, 2, 0, 0, 0, 0]
    assert mixtures.coverage("ring8", points) == {"modes": 2, "of": 8, "high_quality": 7 / 9}
