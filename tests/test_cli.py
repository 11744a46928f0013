"""The training script: bad input gives one clear line and exit status 2, never a traceback."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPT = os.path.join(ROOT, "experiments", "aegan_anime.py")
OGAN_SCRIPT = os.path.join(ROOT, "experiments", "ogan_celeba.py")


def _run(*args, cwd=None, script=SCRIPT):
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--data", "/no/such/folder"], "data path does not exist: /no/such/folder"),
    (["--steps", "-5"], "steps must be at least 1"),
    (["--batch-size", "0"], "batch size must be at least 1"),
    (["--resolution", "48"], "resolution must be 32, 64 or 128"),
    (["--latent-dim", "0"], "latent size must be at least 1"),
    (["--model", "vae"], "--model must be one of aegan, gan, aae"),
    (["--preset", "huge"], "--preset must be one of"),
])
def test_clear_error(args, message, tmp_path):
    result = _run(*args, "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run("--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "no image files" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--adversarial", "wgan"], "adversarial must be one of linear, vanilla, hinge"),
    (["--score", "max"], "score must be one of average, head"),
    (["--generator-norm", "layer"], "generator norm must be one of batch, self-modulated"),
    (["--ema", "0.999,x"], "--ema takes decays separated by commas"),
    (["--ema", "1.5"], "EMA decays must lie strictly between 0 and 1"),
    (["--resolution", "100"], "resolution must be one of 32, 64, 128, 256"),
    (["--corr-weight", "-1"], "correlation weight must be >= 0"),
])
def test_ogan_clear_error(args, message, tmp_path):
    result = _run(*args, "--out", str(tmp_path / "run"), script=OGAN_SCRIPT)
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
