"""The two-dimensional mode-collapse benchmark of PacGAN (Lin et al. 2018): Gaussian mixtures,
and how many of their modes a set of samples covers."""

import numpy as np

from common import UserError


def _ring8():
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01


def _grid25():
    axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2), 0.05


MIXTURES = {"ring8": _ring8, "grid25": _grid25}  # name -> (means, standard deviation)


def mixture(name):
    if name not in MIXTURES:
        raise UserError(f"unknown mixture {name!r}: one of {', '.join(MIXTURES)}")
    return MIXTURES[name]()


def sample(name, n, seed=0):
    """n points, equally likely from each mode, float32 (n, 2)."""
    means, std = mixture(name)
    rng = np.random.default_rng([seed, 11])
    return (means[rng.integers(0, len(means), n)] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_counts(name, points):
    """High-quality points on each mode: points within 3 standard deviations of their nearest
    mode's mean, counted on that mode (PacGAN's MetricLogger logs the same detail)."""
    means, std = mixture(name)
    points = np.asarray(points, np.float64)
    d = np.linalg.norm(points[:, None, :] - means[None], axis=-1)
    good = d.min(axis=1) <= 3 * std
    return np.bincount(d.argmin(axis=1)[good], minlength=len(means))


def coverage(name, points):
    """Modes covered (at least one high-quality point on them) and the share of high-quality
    points."""
    return coverage_of_counts(mode_counts(name, points), len(points))


def coverage_of_counts(counts, points):
    """`coverage` from per-mode counts of high-quality points among `points` points."""
    return {"modes": int(np.count_nonzero(counts)), "of": len(counts), "high_quality": float(counts.sum() / points)}
