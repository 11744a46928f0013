"""O-GAN's networks and loss terms: Table 1's parameter counts, hand values, gradient routing."""

import numpy as np
import pytest
from keras import ops

from common import engine
from common.config import ConfigError
from ogan import losses
from ogan.config import OGANConfig
from ogan.networks import build_encoder, build_generator


def test_parameter_counts_at_128():
    cfg = OGANConfig().validate()  # 128x128, z 128: the paper's setting
    assert build_encoder(cfg).count_params() == 19_519_744
    assert build_generator(cfg).count_params() == 19_535_235


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
def test_shapes(resolution):
    cfg = OGANConfig(resolution=resolution, width=0.0625, latent_dim=16).validate()
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


def test_adversarial_choices_by_hand():
    real, fake = np.array([1.0], "float32"), np.array([0.5], "float32")
    sp = lambda t: np.log1p(np.exp(t))
    expected = {"linear": (1.0 - 0.5, 0.5), "vanilla": (sp(-1.0) + sp(0.5), sp(-0.5)),
                "hinge": (0.0 + 1.5, -0.5)}
    for name, (d_term, h_value) in expected.items():
        h = losses.ADVERSARIAL[name][2]
        assert float(losses.discriminator_term(real, fake, name)[0]) == pytest.approx(d_term, rel=1e-6), name
        assert float(h(fake)[0]) == pytest.approx(h_value, rel=1e-6), name
        assert float(losses.generator_score(fake, fake, name)[0]) == 0.0  # t2's value is always 0


def test_reconstruction_codes_are_standardised():
    import keras

    from ogan.config import make_config
    from ogan.models import OGAN

    keras.utils.set_random_seed(0)
    model = OGAN(make_config("tiny", reconstruction_scale=0.9))
    x = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    codes = np.asarray(model.encode(model.initial_state(), x))
    np.testing.assert_allclose(codes.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(codes.std(axis=-1), 0.9, rtol=1e-4)


def test_self_modulated_generator():
    cfg = OGANConfig(resolution=32, width=0.0625, latent_dim=8, kernel_size=4,
                     generator_norm="self-modulated").validate()
    g = build_generator(cfg)
    assert g.get_layer("to_image").kernel.shape[:2] == (4, 4)
    # Each of G's 3 norms (16, 8 and 4 channels) loses BatchNorm's own scale and offset and
    # gains gamma(z) and beta(z): Dense(z, 8) -> Dense(8, channels), twice.
    plain = build_generator(OGANConfig(resolution=32, width=0.0625, latent_dim=8, kernel_size=4).validate())
    extra = sum(2 * (8 * 8 + 8 + 8 * c + c) - 2 * c for c in (16, 8, 4))
    assert g.count_params() == plain.count_params() + extra


def _tiny_model(**overrides):
    import keras

    from ogan.config import make_config
    from ogan.models import OGAN

    keras.utils.set_random_seed(0)
    model = OGAN(make_config("tiny", **overrides))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1, 8, 32, 32, 3)).astype("float32")
    z = rng.standard_normal((1, 8, 16)).astype("float32")
    return model, x, z


def test_weight_averages_follow_each_update_and_sample():
    model, x, z = _tiny_model(ema_decays=(0.9, 0.99))
    start = model.initial_state()
    state, _ = model.round(start, x, z)
    for decay in ("0.9", "0.99"):
        d = float(decay)
        for net in model.network_names:
            for a, p0, p1 in zip(state["ema"][decay][net], start["params"][net], state["params"][net]):
                np.testing.assert_allclose(np.asarray(a), d * p0 + (1 - d) * np.asarray(p1), rtol=1e-5, atol=1e-7)
    # Samples come from the first average, not from the raw weights.
    by_average = model.call({**state, "params": state["ema"]["0.9"]}, "generator", z[0], training=False)[0]
    np.testing.assert_allclose(np.asarray(model.generate(state, z[0])), np.asarray(by_average), atol=1e-6)


def test_separate_head_trains_with_the_encoder():
    model, x, z = _tiny_model(score="head", adversarial="hinge")
    assert model.network_names == ("generator", "encoder", "head")
    start = model.initial_state()
    state, losses_ = model.round(start, x, z)
    assert np.isfinite(np.asarray(losses_["generator_encoder"])).all()
    for net in model.network_names:
        assert any(not np.allclose(a, b) for a, b in zip(start["params"][net], state["params"][net])), net


def _gradients(term, adversarial="linear"):
    """Gradients of one loss term with respect to E's and G's weights, on a tiny model."""
    cfg = OGANConfig(resolution=32, width=0.0625, latent_dim=8).validate()
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
            value = losses.generator_score(s_fake, s_stop, adversarial)
        else:
            gap = losses.encoder_score_gap(s_real, s_stop)
            value = losses.quadratic_potential(gap, x, ops.stop_gradient(fake))
        return ops.mean(value), None

    _, grads = engine.value_and_grad(objective)({"E": values(e), "G": values(g)})
    norm = lambda gs: float(sum(np.sum(np.square(np.asarray(a))) for a in gs))
    return norm(grads["E"]), norm(grads["G"])


@pytest.mark.parametrize("adversarial", ["linear", "vanilla", "hinge"])
def test_generator_term_trains_g_but_not_e(adversarial):
    e_norm, g_norm = _gradients("generator_score", adversarial)
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
    cfg = make_config("tiny", ema_decays=(0.9,))  # averages too are saved and resumed
    model = OGAN(cfg)
    train, test = data.split(data.digits_images(32)[:400])
    sampler = data.RoundSampler(train, cfg.batch_size, 1, 1, cfg.latent_dim, seed=1, mirror=False)
    meta = {"config": dataclasses.asdict(cfg), "seed": 1}
    state, _ = loop.train(model, sampler, test, str(out), meta, steps, resume=resume,
                          checkpoint_every=10, sample_every=1000, verbose=0)
    return state


def _as_written_before_the_renames(ckpt_dir):
    """The newest checkpoint rewritten with the names older versions used (`z_dim`, the
    optimizer "encoder_generator"), so that resuming it tests that they still load."""
    import json

    from common import checkpoint

    path = checkpoint.list_checkpoints(str(ckpt_dir))[-1]
    with np.load(path) as f:
        arrays = {k.replace("optimizers/generator_encoder/", "optimizers/encoder_generator/"): f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["config"]["z_dim"] = meta["config"].pop("latent_dim")
    arrays["meta"] = np.array(json.dumps(meta))
    assert any(k.startswith("optimizers/encoder_generator/") for k in arrays)
    np.savez(path, **arrays)


def test_training_raises_the_correlation_and_resumes_exactly(tmp_path):
    """Training raises rho, and a run stopped half-way resumes to the same losses and weights,
    from a checkpoint written under the names older versions used."""
    import json

    from common import checkpoint

    straight = _ogan_run(tmp_path / "a", 40)
    _ogan_run(tmp_path / "b", 20)
    _as_written_before_the_renames(tmp_path / "b" / "checkpoints")
    resumed = _ogan_run(tmp_path / "b", 40, resume=True)
    rows = lambda d: [json.loads(l) for l in open(d / "losses.jsonl")]
    a, b = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert [r["step"] for r in b] == list(range(1, 41))
    assert np.mean([r["rho"] for r in a[-5:]]) > np.mean([r["rho"] for r in a[:5]]) + 0.2
    for ra, rb in zip(a, b):
        assert ra["total"] == pytest.approx(rb["total"], rel=1e-4, abs=1e-5), ra["step"]
    assert checkpoint.flatten(straight).keys() == checkpoint.flatten(resumed).keys()
    for x, y in zip(checkpoint.flatten(straight).values(), checkpoint.flatten(resumed).values()):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)
    # The paper's figures at 32x32 (33 pixels per image with its border): 9x9 samples, 8x8
    # real/reconstruction, rows of 12 (real, reconstruction, 8 between, reconstruction, real).
    from PIL import Image

    size = lambda kind: Image.open(tmp_path / "a" / "grids" / f"{kind}_000000040.png").size
    assert size("samples_fixed") == (9 * 33 + 1, 9 * 33 + 1)
    assert size("reconstructions") == (8 * 33 + 1, 8 * 33 + 1)
    assert size("interpolations") == (12 * 33 + 1, 8 * 33 + 1)
