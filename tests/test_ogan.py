"""O-GAN's networks and loss terms: Table 1's parameter counts, hand values, gradient routing."""

import numpy as np
import pytest
from keras import ops

from common import engine
from ogan import losses
from common.config import ConfigError
from ogan.config import OGANConfig
from ogan.networks import build_encoder, build_generator


def test_parameter_counts_at_128():
    cfg = OGANConfig().validate()  # 128x128, z 128: the paper's setting
    assert build_encoder(cfg).count_params() == 19_519_744
    assert build_generator(cfg).count_params() == 19_535_235


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
def test_shapes(resolution):
    cfg = OGANConfig(resolution=resolution, width=0.0625, z_dim=16).validate()
    g, e = build_generator(cfg), build_encoder(cfg)
    x = np.asarray(g(np.zeros((2, 16), "float32")))
    assert x.shape == (2, resolution, resolution, 3)
    assert np.asarray(e(x)).shape == (2, 16)
    assert g.get_layer("to_image").kernel.shape[:2] == (5, 5)


def test_bad_config_is_named():
    with pytest.raises(ConfigError, match="resolution must be one of"):
        OGANConfig(resolution=100).validate()


def test_score_is_the_mean_over_dimensions():
    assert np.asarray(losses.score(np.array([[1.0, 2.0, 3.0]], "float32"))).tolist() == [2.0]


def test_pearson_correlation_by_hand():
    z = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], "float32")
    z_hat = np.array([[2, 4, 6, 8], [4, 3, 2, 1], [1, 3, 2, 4]], "float32")
    # centred: (-1.5, -.5, .5, 1.5) and (-1.5, .5, -.5, 1.5): dot 4, norms sqrt(5) -> 0.8
    np.testing.assert_allclose(np.asarray(losses.pearson_correlation(z, z_hat)), [1.0, -1.0, 0.8], atol=1e-6)


def test_quadratic_potential_by_hand():
    x = np.zeros((2, 2, 2, 1), "float32")
    fake = np.stack([np.ones((2, 2, 1)), 2 * np.ones((2, 2, 1))]).astype("float32")
    gap = np.array([2.0, 2.0], "float32")
    # 0.25 * 4 / 1 and 0.25 * 4 / 4
    np.testing.assert_allclose(np.asarray(losses.quadratic_potential(gap, x, fake)), [1.0, 0.25], rtol=1e-6)


def test_ogan_loss_by_hand():
    one = lambda v: np.array([v], "float32")
    loss = losses.ogan_loss(one(1.0), one(0.5), one(0.5), np.array([[1, 2, 3, 4]], "float32"),
                            np.array([[1, 3, 2, 4]], "float32"), np.zeros((1, 2, 2, 1), "float32"),
                            np.ones((1, 2, 2, 1), "float32"))
    # gap 0.5, t2 0, rho 0.8: 0.5 + 0 - 0.5 * 0.8 + 0.25 * 0.25 / 1
    assert float(loss) == pytest.approx(0.1625, rel=1e-6)


def _gradients(term):
    """Gradients of one loss term with respect to E's and G's weights, on a tiny model."""
    cfg = OGANConfig(resolution=32, width=0.0625, z_dim=8).validate()
    e, g = build_encoder(cfg), build_generator(cfg)
    values = lambda m: [np.asarray(v.numpy()) for v in m.trainable_variables]
    fixed = lambda m: [np.asarray(v.numpy()) for v in m.non_trainable_variables]
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    z = rng.standard_normal((4, 8)).astype("float32")

    def objective(params):
        fake, _ = g.stateless_call(params["G"], fixed(g), z, training=True)
        call = lambda images: e.stateless_call(params["E"], fixed(e), images, training=True)[0]
        real, codes_fake, codes_stop = call(x), call(fake), call(ops.stop_gradient(fake))
        s_real, s_fake, s_stop = losses.score(real), losses.score(codes_fake), losses.score(codes_stop)
        if term == "generator_score":
            value = losses.generator_score(s_fake, s_stop)
        else:
            gap = losses.encoder_score_gap(s_real, s_stop)
            value = losses.quadratic_potential(gap, x, ops.stop_gradient(fake))
        return ops.mean(value), None

    _, grads = engine.value_and_grad(objective)({"E": values(e), "G": values(g)})
    norm = lambda gs: float(sum(np.sum(np.square(np.asarray(a))) for a in gs))
    return norm(grads["E"]), norm(grads["G"])


def test_generator_term_trains_g_but_not_e():
    e_norm, g_norm = _gradients("generator_score")
    assert e_norm < 1e-12 and g_norm > 1e-8


def test_quadratic_potential_trains_e_but_not_g():
    e_norm, g_norm = _gradients("quadratic_potential")
    assert g_norm == 0.0 and e_norm > 1e-8


def _ogan_run(out, steps, resume=False):
    import dataclasses

    import keras

    from common import data, loop
    from ogan.config import make_config
    from ogan.models import OGAN

    keras.utils.set_random_seed(0)
    cfg = make_config("tiny")
    model = OGAN(cfg)
    train, test = data.split(data.digits_images(32)[:120])
    sampler = data.RoundSampler(train, cfg.batch_size, 1, 1, cfg.z_dim, seed=1, mirror=False)
    meta = {"config": dataclasses.asdict(cfg), "seed": 1}
    state, _ = loop.train(model, sampler, test, str(out), meta, steps, resume=resume,
                          checkpoint_every=10, sample_every=1000, verbose=0)
    return state


def test_training_raises_the_correlation_and_resumes_exactly(tmp_path):
    import json

    from common import checkpoint

    straight = _ogan_run(tmp_path / "a", 40)
    _ogan_run(tmp_path / "b", 20)
    resumed = _ogan_run(tmp_path / "b", 40, resume=True)
    rows = lambda d: [json.loads(l) for l in open(d / "losses.jsonl")]
    a, b = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert [r["step"] for r in b] == list(range(1, 41))
    assert np.mean([r["rho"] for r in a[-5:]]) > np.mean([r["rho"] for r in a[:5]]) + 0.2
    for ra, rb in zip(a, b):
        assert ra["total"] == pytest.approx(rb["total"], rel=1e-4, abs=1e-5), ra["step"]
    for x, y in zip(checkpoint.flatten(straight).values(), checkpoint.flatten(resumed).values()):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)
