"""The loader on generated folders and zips, with every kind of awkward file."""

import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from common import data


def _write_awkward_folder(root):
    """10 readable images of 5 modes and formats, plus 3 files that are not."""
    os.makedirs(os.path.join(root, "sub"))
    rng = np.random.default_rng(0)
    rgb = lambda: rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    for i in range(4):
        Image.fromarray(rgb()).save(os.path.join(root, f"rgb{i}.jpg"))
    Image.fromarray(rgb()[..., 0]).save(os.path.join(root, "grey.png"))  # L
    Image.fromarray(np.dstack([rgb(), np.full((20, 30), 128, np.uint8)])).save(os.path.join(root, "rgba.png"))
    Image.fromarray(rgb()).convert("P").save(os.path.join(root, "palette.png"))
    Image.fromarray(rgb()).convert("CMYK").save(os.path.join(root, "cmyk.jpg"))
    Image.fromarray(rgb()).save(os.path.join(root, "sub", "nested.webp"))
    Image.fromarray(rgb()).save(os.path.join(root, "sub", "bitmap.bmp"))
    with open(os.path.join(root, "corrupt.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not a jpeg")
    open(os.path.join(root, "empty.png"), "wb").close()
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not an image")
    return 10


def test_folder_with_awkward_files(tmp_path, capsys):
    n = _write_awkward_folder(tmp_path / "imgs")
    images = data.load_images(str(tmp_path / "imgs"), 16, verbose=False)
    assert images.shape == (n, 16, 16, 3) and images.dtype == np.uint8
    err = capsys.readouterr().err
    assert "skipped 2 unreadable" in err and err.count("\n") == 1


def test_zip_equals_folder(tmp_path):
    _write_awkward_folder(tmp_path / "imgs")
    zpath = tmp_path / "imgs.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for root, _, files in os.walk(tmp_path / "imgs"):
            for f in files:
                full = os.path.join(root, f)
                z.write(full, os.path.join("imgs", os.path.relpath(full, tmp_path / "imgs")))
    folder = data.load_images(str(tmp_path / "imgs"), 16, verbose=False)
    zipped = data.load_images(str(zpath), 16, verbose=False)
    np.testing.assert_array_equal(folder, zipped)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent black
    import io
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    assert (data.decode_image(buf.getvalue(), 8) == 255).all()


def test_center_crop_keeps_the_middle():
    img = np.zeros((10, 30, 3), np.uint8)
    img[:, 10:20] = 255  # a white centre square in a black landscape image
    import io
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    assert (data.decode_image(buf.getvalue(), 10, center_crop=True) == 255).all()


def test_cache_is_written_and_reused(tmp_path):
    _write_awkward_folder(tmp_path / "imgs")
    cache = tmp_path / "cache"
    first = data.load_images(str(tmp_path / "imgs"), 16, cache_dir=str(cache), verbose=False)
    files = os.listdir(cache)
    assert len(files) == 1 and files[0].endswith(".npy")
    os.remove(tmp_path / "imgs" / "rgb0.jpg")  # a changed source gets a new cache entry
    second = data.load_images(str(tmp_path / "imgs"), 16, cache_dir=str(cache), verbose=False)
    assert len(second) == len(first) - 1 and len(os.listdir(cache)) == 2


@pytest.mark.parametrize("make, message", [
    (lambda p: str(p / "missing"), "does not exist"),
    (lambda p: (os.mkdir(p / "empty"), str(p / "empty"))[1], "no image files"),
    (lambda p: (os.mkdir(p / "bad"), open(p / "bad" / "x.jpg", "wb").write(b"junk"), str(p / "bad"))[2],
     "none of the 1 image files"),
    (lambda p: (open(p / "file.txt", "w").write("x"), str(p / "file.txt"))[1], "neither a folder nor a zip"),
    (lambda p: (zipfile.ZipFile(p / "e.zip", "w").close(), str(p / "e.zip"))[1], "no image files"),
])
def test_clear_errors(tmp_path, make, message):
    with pytest.raises(data.DataError, match=message):
        data.load_images(make(tmp_path), 16, verbose=False)


def test_digits_default():
    images = data.digits_images(32)
    assert images.shape == (1797, 32, 32, 3) and images.dtype == np.uint8 and images.max() > 200


def test_split_is_90_10_and_fixed():
    images = np.arange(100, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    train, test = data.split(images)
    assert (len(train), len(test)) == (90, 10)
    np.testing.assert_array_equal(test, data.split(images)[1])
    assert not set(train[:, 0, 0, 0]) & set(test[:, 0, 0, 0])


def test_sampler_is_deterministic_and_mirrors():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (5, 4, 4, 3), dtype=np.uint8)
    sampler = data.RoundSampler(images, batch_size=5, images_per_round=2, latents_per_round=1,
                                latent_dim=3, seed=7, mirror=True)
    x, z = sampler.round(0)
    assert x.shape == (2, 5, 4, 4, 3) and z.shape == (1, 5, 3)
    assert x.min() >= -1 and x.max() <= 1
    # One mirrored epoch holds every image once as it is and once flipped.
    seen = {data.to_uint8(img).tobytes() for img in x.reshape(-1, 4, 4, 3)}
    expected = {img.tobytes() for img in images} | {img[:, ::-1].tobytes() for img in images}
    assert seen == expected
    x2, z2 = sampler.round(0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(z, z2)
    assert list(map(lambda r: r[1].tobytes(), sampler.prefetch(0, 3))) == \
        [sampler.round(r)[1].tobytes() for r in range(3)]


def test_a_failing_batch_reaches_the_training_loop():
    class Broken(data.RoundSampler):
        def round(self, r):
            if r == 2:
                raise ValueError("bad batch")
            return super().round(r)

    sampler = Broken(np.zeros((10, 4, 4, 3), np.uint8), 2, 1, 1, 3, seed=0)
    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for batch in sampler.prefetch(0, 5):
            got.append(batch)
    assert len(got) == 2


def test_points_are_batched_as_they_are():
    points = np.arange(20, dtype=np.float32).reshape(10, 2)
    images, _ = data.RoundSampler(points, 5, 2, 1, 3, seed=0, mirror=False).round(0)
    assert images.shape == (2, 5, 2) and sorted(images.reshape(-1, 2)[:, 0].tolist()) == list(range(0, 20, 2))
