"""The importer: the authors' .h5 files become a checkpoint that --resume continues."""

import os
import sys

import numpy as np
import pytest
from conftest import ROOT

from aegan.authors import FILES
from common import checkpoint, data, loop
from common.keras2_weights import AuthorsFileError, read_h5

# A folder of the authors' four AEGAN .h5 networks (not shipped: 39 MB), named by the environment.
FIXTURE = os.environ.get("AEGAN_AUTHORS_H5", "")
pytestmark = pytest.mark.skipif(not os.path.isdir(FIXTURE),
                                reason="set AEGAN_AUTHORS_H5 to a folder of the authors' four AEGAN .h5 networks")
sys.path.insert(0, os.path.join(ROOT, "experiments"))
import import_authors


def test_a_file_that_does_not_fit_names_its_layer_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(AuthorsFileError, match=r"layer 'conv2d_12' \(Conv2D"):
        import_authors.main(["--dir", FIXTURE, "--generator", os.path.join(FIXTURE, "encoder.h5"),
                             "--out", str(out)])
    assert not os.path.exists(out)


@pytest.mark.slow  # the paper's config, trained for one round
@pytest.mark.backend_agnostic
def test_imported_checkpoint_holds_their_weights_and_resumes(tmp_path):
    out = str(tmp_path / "run")
    import_authors.main(["--dir", FIXTURE, "--out", out])
    _, meta, flat = checkpoint.load_latest(os.path.join(out, "checkpoints"))
    assert (meta["step"], meta["config"]["latent_dim"], meta["config"]["resolution"]) == (0, 32, 64)
    _, layers = read_h5(os.path.join(FIXTURE, FILES["generator"]))
    np.testing.assert_array_equal(flat["params/generator/000"], layers[0][2][0])  # side_dense kernel

    import keras

    from aegan.config import make_config
    from runs import registry

    keras.utils.set_random_seed(0)
    cfg = make_config("paper", steps=4)
    model = registry.build(cfg)
    images = np.random.default_rng(0).integers(0, 255, (40, 64, 64, 3), dtype=np.uint8)
    train, test = data.split(images)
    sampler = data.RoundSampler(train, cfg.batch_size, model.images_per_round,
                                model.latents_per_round, cfg.latent_dim, seed=0)
    state, step = loop.train(model, sampler, test, out, meta, 4, resume=True, verbose=0)
    assert step == 4
    assert not np.array_equal(np.asarray(state["params"]["generator"][0]), flat["params/generator/000"])
    assert checkpoint.load_latest(os.path.join(out, "checkpoints"))[1]["step"] == 4
