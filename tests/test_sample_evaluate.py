"""A finished run's checkpoint alone gives samples, reconstructions of a user's images, and metrics."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_script
from PIL import Image

from common import UserError

# The scripts run in this process: tests/test_cli.py and the last test here run them as processes.
_script = run_script


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "ogan"
    _script("ogan_celeba.py", "--preset", "tiny", "--steps", "2", "--ema", "0.9", "--out", str(out),
            "--cache-dir", str(out.parent / "cache"), "--cpu-compile", "graph")
    return out


def test_samples_and_their_metrics(run, tmp_path):
    samples = tmp_path / "samples.npz"
    _script("sample.py", "--run", str(run), "--n", "150", "--out", str(samples))
    with np.load(samples) as f:
        assert f["images"].shape == (150, 32, 32, 3) and f["images"].dtype == np.uint8
        assert f["z"].shape == (150, 16)
        assert json.loads(str(f["meta"]))["step"] == 2
    result = _script("evaluate.py", "--samples", str(samples), "--bins", "10", "--out", str(tmp_path / "m.json"))
    figures = json.loads(result)
    assert set(figures["samples"]) >= {"ndb_k", "jsd", "diversity", "near_duplicates"}
    assert 0 <= figures["samples"]["ndb_k"] <= 1 and figures["real_held_out"]["n"] > 0
    assert json.load(open(tmp_path / "m.json")) == figures


def test_reconstructions_of_a_users_images(run, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    encoded = tmp_path / "encoded.npz"
    _script("sample.py", "--run", str(run), "--encode", str(folder), "--out", str(encoded))
    with np.load(encoded) as f:
        assert f["reconstructions"].shape == f["images"].shape == (3, 32, 32, 3)
        np.testing.assert_allclose(f["codes"].std(axis=1), 1.0, rtol=1e-3)  # eq. 10's standardised codes
    figures = json.loads(_script("evaluate.py", "--reconstructions", str(encoded)))
    assert set(figures["reconstruction"]) == {"l1", "psnr", "ssim", "sharpness_ratio"}


def test_a_folder_that_is_not_a_run_is_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "sample.py"),
                             "--run", str(tmp_path), "--out", str(tmp_path / "s.npz")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "no checkpoint in" in result.stderr and "Traceback" not in result.stderr


def test_figures_regenerate_from_checkpoints(run, tmp_path):
    control = tmp_path / "control"
    _script("ogan_celeba.py", "--preset", "tiny", "--steps", "2", "--corr-weight", "0", "--out", str(control),
            "--cache-dir", str(tmp_path / "cache"), "--cpu-compile", "graph")
    out = tmp_path / "figures"
    _script("figures.py", "--run", str(run), "--compare", str(control), "--out", str(out))
    names = {"samples.png", "reconstructions.png", "interpolations.png", "interpolation.gif", "losses.png",
             "compare_samples.png", "compare_reconstructions.png"}
    assert names <= set(os.listdir(out))
    # 9x9 samples of 32x32 images with borders, and a caption strip under them
    width, height = Image.open(out / "samples.png").size
    assert width == 9 * 33 + 1 and height > width
    assert Image.open(out / "interpolations.png").size[0] == 12 * 33 + 1


def test_exported_weights_sample_and_encode_as_the_run_and_refuse_resume(run, tmp_path):
    shared = tmp_path / "shared"
    _script("export_weights.py", "--run", str(run), "--out", str(shared))
    with np.load(shared / "checkpoints" / "ckpt-000000002.npz") as f:
        kept = {k.split("/")[0] for k in f.files} | {k.split("/")[2] for k in f.files if k.startswith("ema/")}
        assert not any(k.startswith("optimizers/") or "discriminator" in k for k in f.files)
    assert kept == {"params", "buffers", "ema", "meta", "generator", "encoder"}
    folder = tmp_path / "mine"
    folder.mkdir()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / "a.png")
    for source in (run, shared):
        _script("sample.py", "--run", str(source), "--n", "20", "--out", str(tmp_path / f"{source.name}-s.npz"))
        _script("sample.py", "--run", str(source), "--encode", str(folder), "--out", str(tmp_path / f"{source.name}-e.npz"))
    for kind in ("s", "e"):
        with np.load(tmp_path / f"ogan-{kind}.npz") as a, np.load(tmp_path / f"shared-{kind}.npz") as b:
            for key in ("images", "reconstructions", "codes"):
                if key in a:
                    np.testing.assert_array_equal(a[key], b[key])
    with pytest.raises(UserError, match="holds weights only"):
        _script("ogan_celeba.py", "--preset", "tiny", "--steps", "4", "--out", str(shared), "--resume")
