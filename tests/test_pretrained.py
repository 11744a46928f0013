"""The trained models shipped in results/pretrained/ work from a fresh clone, with no data and
no training: every figure, samples, a user's own images encoded, and a clear refusal to resume."""

import json
import os
import sys

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

sys.path.insert(0, os.path.join(ROOT, "experiments"))
import figures  # noqa: E402
import sample  # noqa: E402

from common import UserError  # noqa: E402

PRETRAINED = os.path.join(ROOT, "results", "pretrained")
MODELS = {"aegan-anime-small": True, "gan-anime-small": False, "aae-anime-small": True, "ogan-celeba-small": True}


def _path(name):
    return os.path.join(PRETRAINED, name)


@pytest.mark.parametrize("name", MODELS)
def test_shipped_weights_only_a_few_megabytes_with_a_readme(name):
    files = [os.path.join(d, f) for d, _, fs in os.walk(_path(name)) for f in fs]
    assert sum(os.path.getsize(f) for f in files) < 8 * 2**20
    assert os.path.exists(os.path.join(_path(name), "README.md"))
    (checkpoint,) = [f for f in files if f.endswith(".npz") and "/checkpoints/" in f]
    with np.load(checkpoint) as f:
        assert not any(k.startswith("optimizers/") or "discriminator" in k for k in f.files)
        meta = json.loads(str(f["meta"]))
    assert meta["weights_only"] == (["generator", "encoder"] if MODELS[name] else ["generator"])


@pytest.mark.parametrize("name", MODELS)
def test_every_figure_and_samples_from_the_repo_alone(name, tmp_path):
    compare = {"aegan-anime-small": "gan-anime-small"}.get(name)
    argv = ["--run", _path(name), "--out", str(tmp_path)]
    figures.main(argv + (["--compare", _path(compare)] if compare else []))
    expected = {"samples.png", "losses.png"}
    if MODELS[name]:
        expected |= {"reconstructions.png", "interpolations.png", "interpolation.gif"}
    if compare:
        expected |= {"compare_samples.png"}
    assert expected <= set(os.listdir(tmp_path))
    sample.main(["--run", _path(name), "--n", "200", "--out", str(tmp_path / "samples.npz")])
    with np.load(tmp_path / "samples.npz") as f:
        assert f["images"].shape == (200, 32, 32, 3) and f["images"].std() > 10  # not a blank generator


def test_aegan_against_the_aae_fig4(tmp_path):
    figures.main(["--run", _path("aegan-anime-small"), "--compare", _path("aae-anime-small"), "--out", str(tmp_path)])
    assert {"compare_samples.png", "compare_reconstructions.png"} <= set(os.listdir(tmp_path))


@pytest.mark.parametrize("name", ["aegan-anime-small", "ogan-celeba-small"])
def test_a_users_own_images_encoded(name, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(64, 64), (80, 50), (30, 40)]):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    sample.main(["--run", _path(name), "--encode", str(folder), "--out", str(tmp_path / "mine.npz")])
    with np.load(tmp_path / "mine.npz") as f:
        assert f["images"].shape == f["reconstructions"].shape == (3, 32, 32, 3)
        assert np.isfinite(f["codes"]).all()


def test_a_pretrained_model_cannot_be_resumed(tmp_path):
    import shutil

    import aegan_anime

    run = tmp_path / "copy"
    shutil.copytree(_path("aegan-anime-small"), run)
    with pytest.raises(UserError, match="holds weights only .* cannot be resumed"):
        aegan_anime.main(["--preset", "small", "--steps", "8", "--out", str(run), "--resume"])
