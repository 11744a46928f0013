"""The model registry: every script chooses a model there, so a model added by one entry trains,
resumes and loads through the same entry points as the papers' models."""

import dataclasses

import numpy as np
import pytest
from keras import ops

from aegan import config as aegan_config
from aegan.models import GAN
from common import UserError
from conftest import run_script
from runs import registry


class LeastSquaresGAN(GAN):
    """The GAN with a least-squares generator loss: a model this repository does not ship."""

    def generator_loss(self, state, z):
        generated, state = self.call(state, "generator", z, training=True)
        logits, state = self.call(state, "discriminator_image", generated, training=True)
        return {"adversarial_image_generated": ops.mean(ops.square(ops.sigmoid(logits) - 1.0))}, state


@pytest.fixture
def extra_model():
    entry = registry.register(registry.Entry(
        "lsgan-test", aegan_config.AEGANConfig, aegan_config.PRESETS, f"{__name__}:LeastSquaresGAN",
        "aegan_anime", in_benchmark=False, about="a test's model"))
    try:
        yield entry
    finally:
        registry.unregister(entry.name)


def test_a_registered_model_trains_resumes_and_loads_through_the_scripts(extra_model, tmp_path):
    import runs

    out, cache = tmp_path / "run", tmp_path / "cache"
    flags = ["--model", "lsgan-test", "--preset", "tiny", "--out", out, "--cache-dir", cache,
             "--cpu-compile", "graph", "--checkpoint-every", 4, "--sample-every", 8]
    run_script("aegan_anime.py", *flags, "--steps", 4)
    printed = run_script("aegan_anime.py", *flags, "--steps", 8, "--resume")
    assert "resuming from" in printed and "LeastSquaresGAN" in printed
    model, state, meta = runs.load_run(str(out))
    assert type(model) is LeastSquaresGAN and model.cfg.model == "lsgan-test" and meta["step"] == 8
    run_script("sample.py", "--run", out, "--n", 4, "--out", tmp_path / "s.npz")
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 32, 32, 3)
    from collapse.protocols import build

    assert build("lsgan-test", "tiny", 8, None).model == "lsgan-test"
    assert "lsgan-test" in registry.names(script="aegan_anime")
    assert "lsgan-test" not in registry.names(in_benchmark=True)


def test_the_registry_refuses_a_taken_name_and_names_the_choices_for_an_unknown_one():
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registry.MODELS["gan"])
    with pytest.raises(UserError, match="must be one of gan, aae, aegan, gan-simultaneous, not 'ogan'"):
        registry.get("ogan", script="aegan_anime")
    assert registry.names(in_benchmark=True) == ["gan", "aae", "aegan", "ogan"]


def test_a_config_names_its_model_and_an_old_ogan_checkpoint_is_found_by_its_class():
    ogan = registry.get("ogan").make_config("tiny")
    assert ogan.model == "ogan" and registry.get("aae").make_config("tiny").model == "aae"
    old = {k: v for k, v in dataclasses.asdict(ogan).items() if k != "model"}  # written before the field
    assert registry.entry_of_checkpoint(old, "OGAN").name == "ogan"
    with pytest.raises(UserError, match="names no model"):
        registry.entry_of_checkpoint(old, "Unknown")
