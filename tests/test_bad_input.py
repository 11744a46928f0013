"""A corpus of bad input: each case gives one clear message or a counted skip, never a
traceback and never a partial output (the command-line numbers are in test_cli.py)."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from common import config, data

RNG = np.random.default_rng(0)


def _encoded(image, fmt):
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def _png_bytes(array):
    return _encoded(Image.fromarray(array), "PNG")


def _jpeg_bytes(image):
    return _encoded(image, "JPEG")


def _rgb(h=24, w=24):
    return RNG.integers(0, 255, (h, w, 3), dtype=np.uint8)


GOOD = _png_bytes(_rgb())
# Each case: the files of a folder beside one good image, and how many of them must load.
FILES = {
    "truncated jpeg": ({"t.jpg": _jpeg_bytes(Image.fromarray(_rgb()))[:200]}, 0),
    "zero-byte jpeg": ({"zero.jpg": b""}, 0),
    "png named .jpg": ({"png.jpg": _png_bytes(_rgb())}, 1),
    "16-bit png": ({"deep.png": _png_bytes(RNG.integers(0, 65535, (24, 24), dtype=np.uint16))}, 1),
    "palette png": ({"p.png": _encoded(Image.fromarray(_rgb()).convert("P"), "PNG")}, 1),
    "cmyk jpeg": ({"cmyk.jpg": _jpeg_bytes(Image.fromarray(_rgb()).convert("CMYK"))}, 1),
    "rgba png": ({"rgba.png": _png_bytes(np.dstack([_rgb(), np.full((24, 24), 100, np.uint8)]))}, 1),
    "greyscale png": ({"grey.png": _png_bytes(_rgb()[..., 0])}, 1),
    "1x1 image": ({"pixel.png": _png_bytes(_rgb(1, 1))}, 0),
    "text named .png": ({"fake.png": b"hello, I am not an image"}, 0),
    "non-image files": ({"notes.txt": b"x", "model.ckpt": b"\0" * 10}, 0),
    "non-UTF-8 file name": ({b"caf\xe9.png": _png_bytes(_rgb())}, 1),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_bad_file_beside_good_ones_is_skipped_and_counted(case, tmp_path, capsys):
    files, loadable = FILES[case]
    folder = os.path.join(str(tmp_path).encode(), b"imgs")
    os.makedirs(folder)
    for name, content in {"good.png": GOOD, **files}.items():
        with open(os.path.join(folder, name if isinstance(name, bytes) else name.encode()), "wb") as f:
            f.write(content)
    images = data.load_images(folder.decode(errors="surrogateescape"), 16, verbose=False)
    assert images.shape == (1 + loadable, 16, 16, 3) and images.dtype == np.uint8
    err = capsys.readouterr().err
    images_offered = sum(1 for n in files if (n if isinstance(n, str) else n.decode(errors="replace"))
                         .lower().endswith(data.IMAGE_EXTENSIONS))
    skipped = images_offered - loadable
    if skipped:
        assert f"skipped {skipped} unreadable or too small" in err and err.count("\n") == 1
    else:
        assert err == ""


def test_a_decompression_bomb_is_skipped(tmp_path, monkeypatch, capsys):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "good.png").write_bytes(GOOD)
    (tmp_path / "imgs" / "huge.png").write_bytes(_png_bytes(np.zeros((300, 300, 3), np.uint8)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # a 300x300 image is a "bomb" now
    assert len(data.load_images(str(tmp_path / "imgs"), 16, verbose=False)) == 1
    assert "skipped 1" in capsys.readouterr().err


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return str(path)


SOURCES = {
    "missing path": (lambda p: str(p / "nowhere"), "data path does not exist"),
    "empty folder": (lambda p: (os.mkdir(p / "empty"), str(p / "empty"))[1], "no image files"),
    "only unreadable images": (lambda p: (os.mkdir(p / "bad"), (p / "bad" / "a.jpg").write_bytes(b"x"),
                                          (p / "bad" / "b.png").write_bytes(b""), str(p / "bad"))[3],
                               "none of the 2 image files"),
    "zip with no images": (lambda p: _zip(p / "docs.zip", {"readme.txt": "hi"}), "no image files"),
    "corrupt zip": (lambda p: ((p / "c.zip").write_bytes(b"PK\x03\x04 garbage"), str(p / "c.zip"))[1],
                    "damaged or not a zip file"),
    "truncated zip": (lambda p: ((p / "t.zip").write_bytes(
                          Path(_zip(p / "full.zip", {"a.png": GOOD})).read_bytes()[:60]), str(p / "t.zip"))[1],
                      "damaged or not a zip file"),
    "a file where a folder is expected": (lambda p: ((p / "x.txt").write_text("x"), str(p / "x.txt"))[1],
                                          "neither a folder nor a zip file"),
}


@pytest.mark.parametrize("case", list(SOURCES))
def test_an_unusable_source_is_one_clear_error(case, tmp_path):
    make, message = SOURCES[case]
    with pytest.raises(data.DataError, match=message):
        data.load_images(make(tmp_path), 16, verbose=False)


def test_a_zip_member_damaged_inside_is_skipped(tmp_path, capsys):
    path = _zip(tmp_path / "d.zip", {"good.png": GOOD, "bad.png": GOOD})
    raw = bytearray(Path(path).read_bytes())
    second = raw.index(b"bad.png") + len("bad.png") + 20  # inside bad.png's stored bytes
    raw[second:second + 8] = b"\0" * 8
    Path(path).write_bytes(bytes(raw))
    assert len(data.load_images(path, 16, verbose=False)) == 1
    assert "skipped 1" in capsys.readouterr().err


CONFIGS = {
    "unknown key": ({"latent_size": 16}, "unknown config key(s): latent_size"),
    "wrong type": ({"latent_dim": "sixteen"}, "config value latent_dim must be a int, not 'sixteen'"),
    "bool for a number": ({"width": True}, "config value width must be a float"),
    "bad value": ({"steps": 0}, "steps must be at least 1"),
    "not an object": ([1, 2], "must hold one JSON object"),
}


@pytest.mark.parametrize("case", list(CONFIGS))
def test_a_bad_config_file_is_one_clear_error(case, tmp_path):
    from aegan.config import make_config

    values, message = CONFIGS[case]
    (tmp_path / "c.json").write_text(json.dumps(values))
    with pytest.raises(config.ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_config("tiny", **config.read_file(str(tmp_path / "c.json")))


def test_a_config_file_that_is_not_json_or_missing(tmp_path):
    (tmp_path / "c.json").write_text("{latent_dim: 16")
    with pytest.raises(config.ConfigError, match="cannot read config file"):
        config.read_file(str(tmp_path / "c.json"))
    with pytest.raises(config.ConfigError, match="config file does not exist"):
        config.read_file(str(tmp_path / "none.json"))


def test_a_config_file_sets_values_and_flags_win(tmp_path):
    from aegan.config import make_config

    sys.path.insert(0, os.path.join(ROOT, "experiments"))
    import _setup

    (tmp_path / "c.json").write_text(json.dumps({"latent_dim": 16, "width": 1, "steps": 40}))
    args = type("Args", (), {"config": str(tmp_path / "c.json")})
    cfg = make_config("tiny", **_setup.overrides(args, steps=12, batch_size=None))
    assert (cfg.latent_dim, cfg.width, cfg.steps, cfg.batch_size) == (16, 1.0, 12, 4)


def test_the_script_reports_a_bad_config_file_and_writes_nothing(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"resolution": 48}))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "aegan_anime.py"),
                             "--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: resolution must be 32, 64 or 128, not 48" in result.stderr
    assert not os.path.exists(tmp_path / "run")


def test_an_out_path_under_a_file_is_one_clear_error(tmp_path):
    from common import loop

    (tmp_path / "file").write_text("x")
    with pytest.raises(loop.RunError, match="cannot use .* as the run folder"):
        loop.train(None, None, None, str(tmp_path / "file" / "run"), {}, 1)
