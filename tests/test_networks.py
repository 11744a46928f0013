"""The four networks: the authors' parameter counts, and shapes at every resolution."""

import numpy as np
import pytest

from aegan.config import make_config
from aegan.networks import build_networks
from common import engine

NAMES = ("generator", "encoder", "discriminator_image", "discriminator_latent")


@pytest.mark.parametrize("latent_dim, counts", [
    (32, (1_946_691, 1_381_664, 708_545, 76_801)),   # the paper's latent size
    (16, (1_929_283, 1_316_112, 708_545, 70_657)),   # the authors' code default
])
def test_parameter_counts_equal_the_authors_models(latent_dim, counts):
    nets = build_networks(make_config(latent_dim=latent_dim), NAMES)
    assert tuple(nets[n].count_params() for n in NAMES) == counts


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_shapes(resolution):
    cfg = make_config(resolution=resolution, width=0.125)
    nets = build_networks(cfg, NAMES)
    z = np.random.default_rng(0).standard_normal((2, cfg.latent_dim)).astype("float32")

    def forward(z):  # one program (a graph under TF): JAX compiles every op of an op-by-op call on its own
        x = nets["generator"](z)
        return x, nets["encoder"](x), nets["discriminator_image"](x), nets["discriminator_latent"](z)

    x, code, score, latent_score = engine.to_numpy(engine.compile_function(forward, xla_on_cpu=False)(z))
    assert x.shape == (2, resolution, resolution, 3)
    assert np.all(np.abs(x) <= 1)
    assert code.shape == (2, cfg.latent_dim)
    assert score.shape == latent_score.shape == (2, 1)


def test_same_shaped_layers_start_different():
    # The authors' shared initializer gave equal-shaped layers identical weights under
    # current TF; ours initialises each layer on its own (docs/authors-code.md).
    nets = build_networks(make_config(), ["encoder"])
    a, b = (nets["encoder"].get_layer(f"block{i}_conv").kernel.numpy() for i in (3, 4))
    assert a.shape == b.shape and not np.allclose(a, b)
