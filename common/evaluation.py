"""Every metric of common/metrics.py for one trained model, or for sample files after the fact."""

import numpy as np

from common import metrics
from common.data import to_uint8

SAMPLE_SEED = 7


def latents(n, latent_dim, seed=0):
    """The z that samples are drawn from: the same for the same seed, in any run."""
    return np.random.default_rng([seed, SAMPLE_SEED]).standard_normal((n, latent_dim), dtype=np.float32)


def draw_samples(inference, state, n, latent_dim, seed=0):
    """n uint8 samples and the z that made them."""
    z = latents(n, latent_dim, seed)
    return to_uint8(inference.generate(state, z)), z


class Reference:
    """What the sample metrics compare against, computed once per dataset: the K-means bins of
    the training images, the near-duplicate threshold, and real images' own figures."""

    def __init__(self, train_images, test_images, k=100, seed=0):
        self.bins = metrics.Bins(train_images, k=k, seed=seed)
        self.threshold = metrics.near_duplicate_threshold(train_images)
        self.real = self.sample_metrics(test_images)

    def sample_metrics(self, samples):
        return {**self.bins.ndb_jsd(samples),
                "diversity": metrics.mean_pairwise_distance(samples),
                "near_duplicates": metrics.near_duplicate_rate(samples, self.threshold)}


def inception_metrics(inception, real_images, samples):
    a, b = inception.features(real_images), inception.features(samples)
    kid, kid_std = metrics.kid_from_features(a, b)
    return {"fid": metrics.fid_from_features(a, b), "kid": kid, "kid_std": kid_std}
