"""How good and how varied samples are, and how faithful reconstructions are, with known-answer tests.

Images are uint8 (N, H, W, 3) arrays, as `experiments/sample.py` writes them. Mode coverage
needs no pretrained network (NDB/JSD, diversity, near-duplicates); FID and KID use Keras'
ImageNet InceptionV3 and say so in one line where its weights cannot be had.
"""

import numpy as np
from scipy import linalg, ndimage, stats

from common import UserError


class MetricsError(UserError, RuntimeError):
    """A metric that cannot be computed as asked; the message says why."""


def _flat(images):
    return np.asarray(images, np.float32).reshape(len(images), -1) / 255.0


# -- mode coverage: NDB and JSD (Richardson & Weiss 2018) ----------------------------------


class Bins:
    """K-means cells of the training images; each cell's share of them is the reference."""

    def __init__(self, train_images, k=100, seed=0):
        from sklearn.cluster import KMeans

        x = _flat(train_images)
        if len(x) < k:
            raise MetricsError(f"NDB needs at least as many training images as bins ({k}), not {len(x)}")
        self.kmeans = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(x)
        self.k = k
        self.train_counts = np.bincount(self.kmeans.labels_, minlength=k)

    def counts(self, images):
        return np.bincount(self.kmeans.predict(_flat(images)), minlength=self.k)

    def ndb_jsd(self, images, alpha=0.05):
        """NDB/K: the share of cells whose proportion differs from the training images' under a
        two-proportion z-test at `alpha`; JSD (nats) between the two cell histograms."""
        n1, n2 = self.train_counts.sum(), len(images)
        c2 = self.counts(images)
        p1, p2 = self.train_counts / n1, c2 / n2
        pooled = (self.train_counts + c2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.divide(p1 - p2, se, out=np.zeros_like(se), where=se > 0)
        different = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
        return {"ndb": int(different.sum()), "ndb_k": float(different.mean()),
                "jsd": jensen_shannon(p1, p2)}


def jensen_shannon(p, q):
    """Jensen-Shannon divergence in nats between two histograms (0 when equal, at most ln 2)."""
    p, q = np.asarray(p, np.float64) / np.sum(p), np.asarray(q, np.float64) / np.sum(q)
    m = (p + q) / 2
    return float((stats.entropy(p, m) + stats.entropy(q, m)) / 2)


# -- diversity among samples ---------------------------------------------------------------


def nearest_distances(images):
    """For each image, the RMS pixel distance ([0, 1] scale) to its nearest other image."""
    from sklearn.neighbors import NearestNeighbors

    x = _flat(images)
    d, _ = NearestNeighbors(n_neighbors=2).fit(x).kneighbors(x)
    return d[:, 1] / np.sqrt(x.shape[1])


def mean_pairwise_distance(images, pairs=5000, seed=0):
    """Mean RMS pixel distance between random pairs of distinct images ([0, 1] scale)."""
    x = _flat(images)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(x), pairs)
    j = (i + rng.integers(1, len(x), pairs)) % len(x)  # never i itself
    return float(np.sqrt(np.mean(np.square(x[i] - x[j]), axis=1)).mean())


def near_duplicate_threshold(real_images, quantile=0.01):
    """The distance below which two images count as near-duplicates: the `quantile` of real
    images' nearest-neighbour distances, so about 1% of real images are flagged."""
    return float(np.quantile(nearest_distances(real_images), quantile))


def near_duplicate_rate(images, threshold):
    return float(np.mean(nearest_distances(images) < threshold))


# -- reconstruction ------------------------------------------------------------------------


def l1(x, y):
    """Mean absolute pixel error on the [0, 1] scale."""
    return float(np.mean(np.abs(_flat(x) - _flat(y))))


def psnr(x, y):
    """Mean over images of 10 log10(1 / MSE), pixels on [0, 1]."""
    mse = np.mean(np.square(_flat(x) - _flat(y)), axis=1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))


def ssim(x, y):
    """Mean SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03), per
    channel on [0, 1] pixels, averaged over pixels, channels and images."""
    x = np.asarray(x, np.float64) / 255.0
    y = np.asarray(y, np.float64) / 255.0
    blur = lambda a: ndimage.gaussian_filter(a, sigma=(0, 1.5, 1.5, 0), truncate=3.5)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[:, 5:-5, 5:-5].mean())  # the window's valid region, as the reference


def laplacian_energy(images):
    """Mean squared Laplacian of the grey image: high for sharp images, low for blurry ones."""
    grey = np.asarray(images, np.float64).mean(axis=-1) / 255.0
    return float(np.mean([np.mean(np.square(ndimage.laplace(g))) for g in grey]))


def sharpness_ratio(reconstructions, originals):
    """Laplacian energy of reconstructions over that of their originals (1 = as sharp)."""
    return laplacian_energy(reconstructions) / laplacian_energy(originals)


def reconstruction_metrics(originals, reconstructions):
    return {"l1": l1(originals, reconstructions), "psnr": psnr(originals, reconstructions),
            "ssim": ssim(originals, reconstructions),
            "sharpness_ratio": sharpness_ratio(reconstructions, originals)}


# -- FID and KID on InceptionV3 features ---------------------------------------------------


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) (Heusel et al. 2017)."""
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(np.sum(np.square(mu1 - mu2)) + np.trace(sigma1 + sigma2 - 2 * covmean))


def fid_from_features(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def kid_from_features(a, b, subsets=10, subset_size=1000, seed=0):
    """Kernel inception distance (Binkowski et al. 2018): the unbiased MMD^2 with the kernel
    (x.y / d + 1)^3, averaged over random subsets; returns (mean, std)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    m = min(subset_size, len(a), len(b))
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        values.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


class Inception:
    """InceptionV3 pool features (2048) with Keras' ImageNet weights: from Keras' usual download,
    or from a local weights file (the 'notop' .h5)."""

    def __init__(self, weights_path=None, batch=50):
        import keras

        weights = weights_path or "imagenet"
        try:
            self.model = keras.applications.InceptionV3(include_top=False, pooling="avg",
                                                        weights=weights, input_shape=(299, 299, 3))
        except Exception as e:  # no network, a wrong file: the cause, in one line
            raise MetricsError(
                "FID/KID need InceptionV3's ImageNet weights, which could not be loaded "
                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                "pass --inception-weights inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 "
                "or run where Keras can download them") from None
        self.batch = batch

    def features(self, images):
        from keras import ops

        from tqdm.auto import tqdm

        out = []
        for i in tqdm(range(0, len(images), self.batch), desc="InceptionV3 features", unit="batch", leave=False):
            x = np.asarray(images[i:i + self.batch], np.float32) / 127.5 - 1.0  # Inception's scaling
            x = ops.image.resize(x, (299, 299), interpolation="bilinear")
            out.append(np.asarray(self.model(x, training=False)))
        return np.concatenate(out)
