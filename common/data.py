"""Images on disk -> a decoded uint8 cache -> deterministic batches in [-1, 1].

A source is a folder of images (searched recursively) or a .zip of one. Images are
decoded once and cached as a .npy file keyed by the source's files, sizes and times and
by the resolution, so a second run starts in seconds. Batches are a pure function of
(seed, round), so a resumed run draws exactly the batches an unbroken one would have,
and a background thread can prepare them ahead.
"""

import hashlib
import io
import os
import queue
import sys
import threading
import warnings
import zipfile
import zlib

import numpy as np
from PIL import Image

from common import UserError
from common.files import remove_stale_temporaries, write_atomic

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
CACHE_VERSION = 2  # 2: images under MIN_SIDE pixels are skipped
MIN_SIDE = 8  # smaller images (icons, 1x1 tracking pixels) are skipped, not blown up
SPLIT_SEED = 0  # the train/test split is the same for every run of a dataset
TEST_FRACTION = 0.1


class DataError(UserError, ValueError):
    """A data source that cannot be used; the message names it."""


# -- reading a source -----------------------------------------------------------------


def _members(path):
    """[(name, size, mtime, read())] of every image file in a folder or zip, sorted by name."""
    if not os.path.exists(path):
        raise DataError(f"data path does not exist: {path}")
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in files:
                if f.lower().endswith(IMAGE_EXTENSIONS):
                    full = os.path.join(root, f)
                    st = os.stat(full)
                    found.append((os.path.relpath(full, path), st.st_size, st.st_mtime_ns,
                                  lambda full=full: open(full, "rb").read()))
        return sorted(found, key=lambda m: m[0])
    if path.lower().endswith(".zip") and not zipfile.is_zipfile(path):
        raise DataError(f"cannot read zip file {path}: it is damaged or not a zip file")
    if zipfile.is_zipfile(path):
        try:
            archive = zipfile.ZipFile(path)
            infos = [i for i in archive.infolist()
                     if not i.is_dir() and i.filename.lower().endswith(IMAGE_EXTENSIONS)]
        except (zipfile.BadZipFile, OSError) as e:
            raise DataError(f"cannot read zip file {path}: {e}") from None
        return sorted(((i.filename, i.file_size, i.date_time, lambda i=i: archive.read(i))
                       for i in infos), key=lambda m: m[0])
    raise DataError(f"data path is neither a folder nor a zip file: {path}")


def decode_image(data, resolution, center_crop=False):
    """Bytes of one image file -> (resolution, resolution, 3) uint8, or None if unreadable or
    under MIN_SIDE pixels on a side."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if min(img.size) < MIN_SIDE:
                return None
            img.load()
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: keep the top 8 bits
            img = Image.fromarray((np.asarray(img, dtype=np.uint32) >> 8).astype(np.uint8))
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img.alpha_composite(rgba)
        img = img.convert("RGB")
        if center_crop:
            w, h = img.size
            s = min(w, h)
            img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        if img.size != (resolution, resolution):
            img = img.resize((resolution, resolution), Image.LANCZOS)
        return np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, zipfile.BadZipFile):
        return None


def _cache_path(path, members, resolution, center_crop, cache_dir):
    key = hashlib.sha1(repr((CACHE_VERSION, os.path.abspath(path), resolution, center_crop,
                             [m[:3] for m in members])).encode()).hexdigest()[:16]
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    return os.path.join(cache_dir, f"{stem}-{resolution}px-{key}.npy")


def load_images(path, resolution, center_crop=False, cache_dir=None, verbose=True):
    """All readable images of a folder or zip as one (N, R, R, 3) uint8 array (cached)."""
    members = _members(path)
    if not members:
        raise DataError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {path}")
    cache = _cache_path(path, members, resolution, center_crop, cache_dir) if cache_dir else None
    if cache and os.path.exists(cache):
        try:
            return np.load(cache)
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt below
    images, skipped = [], []
    from keras.utils import Progbar
    bar = Progbar(len(members), unit_name="image") if verbose else None
    for i, (name, _, _, read) in enumerate(members):
        try:
            img = decode_image(read(), resolution, center_crop)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error):  # a damaged zip member
            img = None
        if img is None:
            skipped.append(name)
        else:
            images.append(img)
        if bar and (i % 500 == 0 or i == len(members) - 1):
            bar.update(i + 1)
    if skipped:
        print(f"warning: skipped {len(skipped)} unreadable or too small (under {MIN_SIDE}x{MIN_SIDE}) "
              f"image file(s) in {path} (first: {skipped[0]!r})", file=sys.stderr)
    if not images:
        raise DataError(f"none of the {len(members)} image files in {path} could be read "
                        f"(damaged, not images, or under {MIN_SIDE}x{MIN_SIDE})")
    images = np.stack(images)
    if cache:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            remove_stale_temporaries(cache_dir)
            write_atomic(cache, lambda f: np.save(f, images))
        except OSError as e:  # the images are decoded: train without a cache
            print(f"warning: cannot write the image cache {cache} ({e.strerror or e}); "
                  "the next run decodes the images again", file=sys.stderr)
    return images


def digits_images(resolution):
    """The embedded default: scikit-learn's 1,797 handwritten digits, upscaled, 3 channels."""
    from sklearn.datasets import load_digits

    digits = load_digits().images  # (1797, 8, 8), values 0..16
    grey = (digits / 16.0 * 255).round().astype(np.uint8)
    out = np.stack([np.asarray(Image.fromarray(g).resize((resolution, resolution), Image.BICUBIC))
                    for g in grey])
    return np.repeat(out[..., None], 3, axis=-1)


# -- batches --------------------------------------------------------------------------


def to_float(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.astype(np.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255]."""
    return np.clip((np.asarray(images, np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def split(images):
    """90/10 train/test split with a fixed seed."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    n_test = max(1, int(round(len(images) * TEST_FRACTION))) if len(images) > 1 else 0
    return images[order[n_test:]], images[order[:n_test]]


class RoundSampler:
    """The image and z batches of round r, as a pure function of (seed, r).

    Epochs run over the training images (twice as many with mirroring: each image and its
    horizontal flip), each in its own seeded order.
    """

    def __init__(self, train_images, batch_size, images_per_round, latents_per_round,
                 latent_dim, seed, mirror=True):
        if len(train_images) == 0:
            raise DataError("the training split is empty")
        self.images = train_images
        self.batch_size = batch_size
        self.images_per_round = images_per_round
        self.latents_per_round = latents_per_round
        self.latent_dim = latent_dim
        self.seed = seed
        self.mirror = mirror
        self.epoch_size = len(train_images) * (2 if mirror else 1)
        self._last_order = (None, None)  # (epoch, its order): a round draws from one or two epochs

    def _order(self, epoch):
        """The epoch's seeded order, kept for the rounds after it."""
        kept = self._last_order  # one read: another thread may replace it
        if kept[0] != epoch:
            kept = self._last_order = (epoch, np.random.default_rng([self.seed, 0, epoch]).permutation(self.epoch_size))
        return kept[1]

    def _indices(self, start, count):
        out = []
        while count > 0:
            epoch, offset = divmod(start, self.epoch_size)
            order = self._order(epoch)
            take = order[offset:offset + count]
            out.append(take)
            start, count = start + len(take), count - len(take)
        return np.concatenate(out)

    def _images(self, r, count):
        """The round's `count` training images (uint8 images, or float data such as 2-D points)."""
        idx = self._indices(r * count, count)
        imgs = self.images[idx % len(self.images)]
        if self.mirror:
            flip = idx >= len(self.images)
            imgs[flip] = imgs[flip][:, :, ::-1]
        return imgs

    def round(self, r):
        """(images (k, B, H, W, 3) float32 in [-1, 1], latents (m, B, D) float32)."""
        b, k = self.batch_size, self.images_per_round
        imgs = self._images(r, k * b)
        # uint8 images go to [-1, 1]; float data (2-D points) is used as it is.
        imgs = to_float(imgs) if imgs.dtype == np.uint8 else imgs.astype(np.float32)
        images = imgs.reshape(k, b, *imgs.shape[1:])
        latents = np.random.default_rng([self.seed, 1, r]).standard_normal(
            (self.latents_per_round, b, self.latent_dim), dtype=np.float32)
        return images, latents

    def rounds(self, first, last):
        """Rounds first..last-1 stacked: (images (R, k, B, ...), latents (R, m, B, D))."""
        images, latents = zip(*(self.round(r) for r in range(first, last)))
        return np.stack(images), np.stack(latents)

    def prefetch(self, first_round, last_round, depth=3, place=None, spans=None):
        """Yields rounds first..last-1, prepared by a background thread (and, given `place`,
        copied to the device by it: the step never waits for the host). Given `spans`, a list
        of (first, last) that cover those rounds, yields each span's rounds stacked instead."""
        q = queue.Queue(maxsize=depth)
        stop = threading.Event()
        items = spans or [(r, None) for r in range(first_round, last_round)]

        def work():
            try:
                for first, last in items:
                    if stop.is_set():
                        return
                    batches = self.round(first) if last is None else self.rounds(first, last)
                    q.put(place(batches) if place else batches)
            except BaseException as e:  # handed to the consumer, which raises it
                q.put(e)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            for _ in items:
                item = q.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    thread.join(0.05)
