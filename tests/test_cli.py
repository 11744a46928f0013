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


@pytest.mark.parametrize("script, args, message", [
    (SCRIPT, ["--data", "/no/such/folder"], "data path does not exist: /no/such/folder"),
    (SCRIPT, ["--steps", "-5"], "steps must be at least 1"),
    (SCRIPT, ["--batch-size", "0"], "batch size must be at least 1"),
    (SCRIPT, ["--resolution", "48"], "resolution must be 32, 64 or 128"),
    (SCRIPT, ["--latent-dim", "0"], "latent size must be at least 1"),
    (SCRIPT, ["--model", "vae"], "--model must be one of gan, aae, aegan, gan-simultaneous"),
    (SCRIPT, ["--preset", "huge"], "--preset must be one of"),
    (OGAN_SCRIPT, ["--adversarial", "wgan"], "adversarial must be one of linear, vanilla, hinge"),
    (OGAN_SCRIPT, ["--score", "max"], "score must be one of average, head"),
    (OGAN_SCRIPT, ["--generator-norm", "layer"], "generator norm must be one of batch, self-modulated"),
    (OGAN_SCRIPT, ["--ema", "0.999,x"], "--ema takes decays separated by commas"),
    (OGAN_SCRIPT, ["--ema", "1.5"], "EMA decays must lie strictly between 0 and 1"),
    (OGAN_SCRIPT, ["--resolution", "100"], "resolution must be one of 32, 64, 128, 256"),
    (OGAN_SCRIPT, ["--corr-weight", "-1"], "correlation weight must be >= 0"),
])
def test_clear_error(script, args, message, tmp_path):
    result = _run(*args, "--out", str(tmp_path / "run"), script=script)
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _run("--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "no image files" in result.stderr
