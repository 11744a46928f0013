"""Image grids and interpolation strips as PNG files."""

import numpy as np
from PIL import Image

from common.checkpoint import write_atomic


def grid(images, columns):
    """(N, H, W, 3) uint8 -> one (rows*H, columns*W, 3) image with a 1-pixel border."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1, c), 255, np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        out[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + col * (w + 1):1 + col * (w + 1) + w] = img
    return out


def interleave(a, b):
    """[a0, b0, a1, b1, ...]: real images beside their reconstructions."""
    out = np.empty((2 * len(a), *a.shape[1:]), a.dtype)
    out[0::2], out[1::2] = a, b
    return out


def save_png(path, image):
    write_atomic(path, lambda f: Image.fromarray(image).save(f, format="PNG"))


def interpolate(start, end, steps):
    """Linear interpolation between two batches of codes: (steps, N, D)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None]
    return (1 - t) * start[None] + t * end[None]
