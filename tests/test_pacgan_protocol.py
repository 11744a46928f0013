"""PacGAN's 2-D protocol (the "pacgan" presets, common/mlp.py): its networks, optimizer and
loss, and what BatchNorm in G asks of a round."""

import keras
import numpy as np
import pytest

from aegan.config import make_config
from runs import registry
from common import engine
from common.mlp import Maxout
from ogan.config import make_config as ogan_config
from ogan.models import OGAN


def test_maxout_keeps_the_largest_of_each_group():
    x = np.array([[1.0, 5.0, -2.0, 0.5, 0.25, 0.75]], np.float32)
    np.testing.assert_array_equal(engine.to_numpy(Maxout(3)(x)), [[5.0, 0.75]])


def _gan():
    keras.utils.set_random_seed(0)
    return registry.build(make_config("pacgan", model="gan", steps=8))


def test_the_networks_are_pacgans():
    model = _gan()
    g, d = model.nets["generator"], model.nets["discriminator_image"]
    # G: 2 -> 4 x (Dense 400 without bias -> BatchNorm -> ReLU) -> 2.
    dense = [l for l in g.layers if isinstance(l, keras.layers.Dense)]
    assert [l.units for l in dense] == [400] * 4 + [2] and not any(l.use_bias for l in dense[:4])
    norms = [l for l in g.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(norms) == 4 and all(l.momentum == 0.95 for l in norms)  # Blocks' p * 0.95 + m * 0.05
    # D: 3 maxout layers of 200 units x 5 pieces -> 1 logit: 2*1000+1000 + 2*(200*1000+1000) + 201.
    assert d.count_params() == 405_201 and d.output_shape == (None, 1)
    assert all(np.all(b == 0) for b in d.get_weights()[1::2])
    adam = model.optimizers["generator"]
    assert (adam.learning_rate, adam.beta_1, adam.clipnorm) == (1e-4, 0.8, None)
    assert (model.cfg.real_label, model.cfg.fake_label, model.cfg.batch_size, model.latent_dim) == (1.0, 0.0, 100, 2)


@pytest.mark.parametrize("name", ["gan", "aae", "aegan"])
def test_a_round_moves_the_batchnorm_statistics_and_feeds_d_training_mode_fakes(name):
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("pacgan", model=name, steps=8))
    rng = np.random.default_rng(0)
    images = rng.standard_normal((model.images_per_round, 100, 2)).astype("float32")
    latents = rng.standard_normal((model.latents_per_round, 100, 2)).astype("float32")
    start = model.initial_state()
    state, _, finite = engine.to_numpy(model.train_round(start, images, latents, fused=True))
    assert bool(finite)
    # The generator's moving statistics follow its updates (a G update once dropped them, so
    # inference-mode samples came from the initial statistics).
    for before, after in zip(start["buffers"]["generator"], state["buffers"]["generator"]):
        assert not np.allclose(before, after)
    # Fakes in training mode: each batch normalised by its own statistics.
    fakes = model.fakes_of(start, "generator", [latents[0], latents[1]])
    alone = model.call(start, "generator", latents[0], training=True)[0]
    np.testing.assert_allclose(engine.to_numpy(fakes[0]), engine.to_numpy(alone), rtol=1e-5, atol=1e-6)


def test_ogan_under_the_protocol_trains_with_adam_on_pacgans_networks():
    model = OGAN(ogan_config("pacgan", steps=8))
    assert model.nets["encoder"].count_params() == 405_000 + 1608  # D's body, then 200 -> latent_dim 8
    assert type(model.optimizers["generator_encoder"]).__name__ == "Adam"


def test_the_simultaneous_gan_takes_both_gradients_at_the_same_weights():
    # PacGAN's iteration (ALI's ali_algorithm): D's and G's updates both start from the same
    # weights, on one batch of real points and G's fakes of one batch of z.
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("pacgan", model="gan-simultaneous", steps=8))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2)).astype("float32")
    z = rng.standard_normal((100, 2)).astype("float32")
    start = model.initial_state()
    both, (d_loss, g_loss) = engine.to_numpy(model.simultaneous_step(start, x, z))
    d_alone, d_alone_loss = engine.to_numpy(model.update(start, "discriminator_image", model.discriminator_loss, (x, z)))
    g_alone, g_alone_loss = engine.to_numpy(model.update(start, "generator", model.generator_loss, z))
    for name, alone in (("discriminator_image", d_alone), ("generator", g_alone)):
        for a, b in zip(both["params"][name], alone["params"][name]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(both["buffers"]["generator"], g_alone["buffers"]["generator"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(d_loss, d_alone_loss, rtol=1e-6)
    np.testing.assert_allclose(g_loss, g_alone_loss, rtol=1e-6)
    # G's step did not see D's update: G trained after it would differ.
    after_d = model.update(start, "discriminator_image", model.discriminator_loss, (x, z))[0]
    g_after_d = engine.to_numpy(model.update(after_d, "generator", model.generator_loss, z)[0])
    assert not np.allclose(both["params"]["generator"][0], g_after_d["params"]["generator"][0])
    # D's loss at the first step: PacGAN's sum of the real and the fake terms.
    d_logits = engine.to_numpy(model.call(start, "discriminator_image", x, training=True)[0])
    fakes = model.call(start, "generator", z, training=True)[0]
    f_logits = engine.to_numpy(model.call(start, "discriminator_image", fakes, training=True)[0])
    softplus = lambda t: np.logaddexp(0.0, t)
    np.testing.assert_allclose(d_loss[0], np.mean(softplus(-d_logits)) + np.mean(softplus(f_logits)), rtol=1e-5)


def test_a_simultaneous_gan_round_is_four_such_steps():
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("pacgan", model="gan-simultaneous", steps=8))
    rng = np.random.default_rng(1)
    images = rng.standard_normal((4, 100, 2)).astype("float32")
    latents = rng.standard_normal((4, 100, 2)).astype("float32")
    start = model.initial_state()
    fused, losses, finite = engine.to_numpy(model.train_round(start, images, latents, fused=True))
    assert bool(finite) and losses["discriminator_image"].shape == (4, 1) and losses["generator"].shape == (4, 1)
    state = start
    for i in range(4):
        state, _ = model.simultaneous_step(state, images[i], latents[i])
    # Adam moves a weight by up to about lr = 1e-4 a step, and by a ratio of tiny numbers where
    # a gradient is near 0, where the compiled round and these eager steps can differ by a few
    # 1e-6 (TF): compared to a tenth of one step.
    for a, b, s in zip(fused["params"]["generator"], engine.to_numpy(state)["params"]["generator"],
                       start["params"]["generator"]):
        assert np.abs(a - s).max() > 1e-4
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
