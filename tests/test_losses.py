"""Each AEGAN loss term against values worked out by hand."""

import math

import numpy as np
import pytest

from aegan import losses


def test_adversarial_loss_at_zero_logit_is_log_2():
    # sigmoid(0) = 0.5, so -log(0.5) whatever the target.
    assert float(losses.adversarial_loss(np.zeros((4, 1), "float32"), 1.0)) == pytest.approx(math.log(2), rel=1e-6)


def test_adversarial_loss_with_smoothed_label():
    # logit 2, target 0.95: -(0.95 log s(2) + 0.05 log(1 - s(2))) = 0.95*0.126928 + 0.05*2.126928
    expected = 0.95 * 0.12692801 + 0.05 * 2.12692801
    value = float(losses.adversarial_loss(np.full((3, 1), 2.0, "float32"), 0.95))
    assert value == pytest.approx(expected, rel=1e-5)


def test_adversarial_loss_averages_over_the_batch():
    # logits 0 and 2 against target 1: (log 2 + 0.126928) / 2
    value = float(losses.adversarial_loss(np.array([[0.0], [2.0]], "float32"), 1.0))
    assert value == pytest.approx((math.log(2) + 0.12692801) / 2, rel=1e-5)


def test_adversarial_loss_is_finite_for_saturated_logits():
    value = float(losses.adversarial_loss(np.array([[-200.0]], "float32"), 1.0))
    assert value == pytest.approx(200.0, rel=1e-4)


def test_image_reconstruction_loss_is_mean_absolute_error():
    x = np.array([0.0, 1.0, -1.0, 0.5], "float32").reshape(1, 2, 2, 1)
    x_rec = np.array([0.5, 1.0, 0.0, -0.5], "float32").reshape(1, 2, 2, 1)
    assert float(losses.image_reconstruction_loss(x, x_rec)) == pytest.approx((0.5 + 0 + 1 + 1) / 4)


def test_latent_reconstruction_loss_is_mean_squared_error():
    z = np.array([[1.0, 2.0], [0.0, -1.0]], "float32")
    z_rec = np.zeros_like(z)
    assert float(losses.latent_reconstruction_loss(z, z_rec)) == pytest.approx((1 + 4 + 0 + 1) / 4)
