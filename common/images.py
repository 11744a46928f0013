"""Image grids and interpolation strips as PNG files."""

import dataclasses

import numpy as np
from PIL import Image

from common.files import write_atomic


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


def caption(image, text):
    """The image with a white strip of text under it."""
    from PIL import ImageDraw

    strip = 14 * (1 + len(text) * 6 // max(image.shape[1], 1))
    out = Image.new("RGB", (image.shape[1], image.shape[0] + strip), "white")
    out.paste(Image.fromarray(image), (0, 0))
    draw, line, y = ImageDraw.Draw(out), "", image.shape[0] + 1
    for word in text.split():  # wrap to the image's width (the default font is ~6 px a letter)
        if len(line) + len(word) + 1 > image.shape[1] // 6 and line:
            draw.text((2, y), line, fill="black")
            line, y = "", y + 13
        line = f"{line} {word}".strip()
    draw.text((2, y), line, fill="black")
    return np.asarray(out)


def beside(left, right):
    """Two sets of 100 samples as 10x10 grids side by side, a white gap between (AEGAN Fig. 3)."""
    a, b = grid(left, 10), grid(right, 10)
    return np.concatenate([a, np.full((a.shape[0], 8, 3), 255, np.uint8), b], axis=1)


def save_png(path, image):
    write_atomic(path, lambda f: Image.fromarray(image).save(f, format="PNG"))


def save_scatter(path, real, generated, title):
    """Real 2-D points in grey under generated ones in red, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(real[:, 0], real[:, 1], s=4, c="0.6", label="data")
    ax.scatter(generated[:, 0], generated[:, 1], s=4, c="tab:red", label="samples")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    write_atomic(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)


def interpolate(start, end, steps):
    """Linear interpolation between two batches of codes: (steps, N, D)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None]
    return (1 - t) * start[None] + t * end[None]


@dataclasses.dataclass(frozen=True)
class GridLayout:
    """The grids a training run draws; the defaults are the AEGAN authors' plots."""

    samples: int = 400  # from the run's fixed z
    sample_columns: int = 20
    random_samples: int = 100  # from fresh z at each grid
    random_columns: int = 10
    pairs: int = 50  # real image beside its reconstruction
    pair_columns: int = 10  # images per row (pairs * 2 / pair_columns rows)
    interpolation_rows: int = 8
    interpolation_points: int = 9  # decoded codes from E(a) to E(b), both ends (reconstructions) included
