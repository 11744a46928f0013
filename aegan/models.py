"""AEGAN and its GAN and AAE baselines: one round of the authors' training loop each.

A round is 4 of the authors' "steps". Its fakes are made once, in inference mode, at the
start (the authors' `predict`; in training mode for BatchNorm generators: `fakes_of`); then
come 4 discriminator updates and 4 generator-side updates, each its own optimizer step, as
pure functions of `state`, a dict of arrays. Runs of at least `loop.FUSE_MIN_ROUNDS` rounds
compile the whole round, its 12 updates unrolled (XLA:CPU runs convolutions inside a loop
body far off its fast path), as one program: one call per round (`PureModel.train_round`).
Shorter runs compile each kind of update once and call them in turn, passing device arrays:
slower per round, but about 3x quicker to compile. Both compute the same round (tests/test_training.py).
"""

import numpy as np
from keras import ops

from aegan import losses
from aegan.networks import build_networks
from common.model import PureModel
from common.optimizer import Adam


class RoundModel(PureModel):
    """A model of the AEGAN paper: its networks and Adam, 4 steps per round."""

    steps_per_round = 4

    def build_networks(self, cfg):
        return build_networks(cfg, self.network_names)

    def make_optimizer(self, learning_rate):
        return Adam(learning_rate, beta_1=self.cfg.adam_beta_1, clipnorm=self.cfg.clipnorm or None)

    def discriminator_updates(self, state, network, batches):
        """The 4 updates of one discriminator: real, fake, real, fake (smoothed labels)."""
        c = self.cfg

        def loss(state, inputs):
            batch, label = inputs
            logits, state = self.call(state, network, batch, training=True)
            return {"loss": losses.adversarial_loss(logits, label)}, state

        labels = [np.asarray(label, self.io_dtype) for label in (c.real_label, c.fake_label) * 2]
        return self.repeated_update(state, network, loss, list(zip(batches, labels)))

    def one_sided_round(self, state, faker, sources, discriminator, reals, optimizer, loss_fn, inputs):
        """A baseline's round, one adversarial half of AEGAN's: `faker`'s fakes of the two `sources`
        batches; the discriminator's 4 updates on reals and fakes in turn; then `optimizer`'s 4
        updates of loss_fn, one per `inputs` batch."""
        make = self.compiled("fakes", lambda s, a, b: self.fakes_of(s, faker, [a, b]))
        fake_a, fake_b = make(state, *sources)
        state, d = self.discriminator_updates(state, discriminator, [reals[0], fake_a, reals[1], fake_b])
        state, other = self.repeated_update(state, optimizer, loss_fn, inputs)
        return state, {discriminator: d, optimizer: other}

    def fakes_of(self, state, network, batches):
        """A network's outputs for the round's fakes, one per batch. In inference mode, as the
        authors' `predict` (one call on the batches joined: the same math). With the config's
        fakes_in_training_mode, in training mode, each batch with its own BatchNorm statistics,
        as PacGAN's D sees G's output: with BatchNorm in G, inference-mode fakes are not what G
        trains against, and D learns to tell the two modes apart instead (its loss and G's both
        went to about 0 on ring8). The moving statistics are left to the updates."""
        state = self.sampling_state(state)
        if self.cfg.fakes_in_training_mode:
            return [self.call(state, network, b, training=True)[0] for b in batches]
        joined = ops.concatenate(batches) if len(batches) > 1 else batches[0]
        return _split(self.call(state, network, joined, training=False)[0], len(batches))


def _split(batch, parts):
    return [batch[i * (batch.shape[0] // parts):(i + 1) * (batch.shape[0] // parts)]
            for i in range(parts)]


class AEGAN(RoundModel):
    """G, E, Dx and Dz trained together (paper eq. 7)."""

    network_names = ("generator", "encoder", "discriminator_image", "discriminator_latent")
    optimizer_groups = {
        "discriminator_image": (("discriminator_image",), "discriminator_lr"),
        "discriminator_latent": (("discriminator_latent",), "discriminator_lr"),
        "generator_encoder": (("generator", "encoder"), "generator_encoder_lr"),
    }
    images_per_round = 8
    latents_per_round = 8
    round_calls = (("encoder", 2, 1), ("generator", 3, 1), ("encoder", 1, 1),
                   ("discriminator_image", 4, 3), ("discriminator_latent", 4, 3),
                   ("encoder", 4, 3), ("generator", 8, 3), ("encoder", 4, 3),
                   ("discriminator_image", 8, 2), ("discriminator_latent", 8, 2))
    loss_names = {
        "discriminator_image": ["loss"],
        "discriminator_latent": ["loss"],
        "generator_encoder": ["total", "image_reconstruction", "latent_reconstruction",
                              "adversarial_image_generated", "adversarial_image_reconstructed",
                              "adversarial_latent_encoded", "adversarial_latent_reconstructed"],
    }

    def round(self, state, images, latents):
        # The authors' draws, in their roles (fixtures/aegan-authors-round/README.md):
        # images: x1, x2 (real for Dx), x -> x_tilde, x -> z_hat, then 4 x for G+E;
        # latents: z -> x_hat, z1, z2 (real for Dz), z -> z_tilde, then 4 z for G+E.
        x1, x2, x_for_x_tilde, x_for_z_hat = images[0], images[1], images[2], images[3]
        z_for_x_hat, z1, z2, z_for_z_tilde = latents[0], latents[1], latents[2], latents[3]

        x_hat, x_tilde, z_hat, z_tilde = self.compiled("fakes", self.fakes)(
            state, x_for_x_tilde, x_for_z_hat, z_for_x_hat, z_for_z_tilde)
        state, dx = self.discriminator_updates(state, "discriminator_image", [x1, x_hat, x2, x_tilde])
        state, dz = self.discriminator_updates(state, "discriminator_latent", [z1, z_hat, z2, z_tilde])
        state, ge = self.repeated_update(state, "generator_encoder", self.generator_encoder_loss,
                                         [(images[i], latents[i]) for i in range(4, 8)])
        return state, {"discriminator_image": dx, "discriminator_latent": dz,
                       "generator_encoder": ge}

    def fakes(self, state, x_for_x_tilde, x_for_z_hat, z_for_x_hat, z_for_z_tilde):
        """The round's fakes (`fakes_of`: in inference mode, or training mode under BatchNorm)."""
        code_x_tilde, z_hat = self.fakes_of(state, "encoder", [x_for_x_tilde, x_for_z_hat])
        x_hat, x_tilde, image_for_z_tilde = self.fakes_of(state, "generator",
                                                          [z_for_x_hat, code_x_tilde, z_for_z_tilde])
        return x_hat, x_tilde, z_hat, self.fakes_of(state, "encoder", [image_for_z_tilde])[0]

    def generator_encoder_loss(self, state, inputs):
        # eq. 7 for G and E: reconstruction (eq. 6) plus the four adversarial terms (eq. 2-5).
        x, z = inputs
        c = self.cfg
        z_encoded, state = self.call(state, "encoder", x, training=True)
        generated, state = self.call(state, "generator", ops.concatenate([z, z_encoded]), training=True)
        x_hat, x_tilde = _split(generated, 2)
        z_tilde, state = self.call(state, "encoder", x_hat, training=True)
        dx_logits, state = self.call(state, "discriminator_image", generated, training=True)
        dz_logits, state = self.call(state, "discriminator_latent",
                                     ops.concatenate([z_encoded, z_tilde]), training=True)
        dx_generated, dx_reconstructed = _split(dx_logits, 2)
        dz_encoded, dz_reconstructed = _split(dz_logits, 2)
        image_rec = losses.image_reconstruction_loss(x, x_tilde)
        latent_rec = losses.latent_reconstruction_loss(z, z_tilde)
        adversarial = {f"adversarial_{term}": losses.adversarial_loss(logits, 1.0) for term, logits in
                       (("image_generated", dx_generated), ("image_reconstructed", dx_reconstructed),
                        ("latent_encoded", dz_encoded), ("latent_reconstructed", dz_reconstructed))}
        total = (c.image_reconstruction_weight * image_rec
                 + c.latent_reconstruction_weight * latent_rec
                 + c.adversarial_weight * sum(adversarial.values()))
        return {"total": total, "image_reconstruction": image_rec, "latent_reconstruction": latent_rec,
                **adversarial}, state


class GAN(RoundModel):
    """The GAN baseline: G and Dx of the AEGAN, same hyperparameters."""

    network_names = ("generator", "discriminator_image")
    optimizer_groups = {
        "discriminator_image": (("discriminator_image",), "discriminator_lr"),
        "generator": (("generator",), "generator_encoder_lr"),
    }
    images_per_round = 2
    latents_per_round = 6
    round_calls = (("generator", 2, 1), ("discriminator_image", 4, 3),
                   ("generator", 4, 3), ("discriminator_image", 4, 2))
    loss_names = {"discriminator_image": ["loss"], "generator": ["adversarial_image_generated"]}

    def round(self, state, images, latents):
        # AEGAN's image half: Dx on x and G(z) in turn, then G against it.
        return self.one_sided_round(state, "generator", [latents[0], latents[1]], "discriminator_image",
                                    [images[0], images[1]], "generator", self.generator_loss,
                                    [latents[i] for i in range(2, 6)])

    def generator_loss(self, state, z):
        # eq. 2 for G.
        generated, state = self.call(state, "generator", z, training=True)  # keeps G's BatchNorm statistics
        logits, state = self.call(state, "discriminator_image", generated, training=True)
        return {"adversarial_image_generated": losses.adversarial_loss(logits, 1.0)}, state


class SimultaneousGAN(GAN):
    """The GAN updated as PacGAN's 2-D code updates it (ALI's `ali_algorithm`): each step takes
    D's and G's gradients at the same weights, on one batch of real points and one of fakes,
    and applies both; D's loss sums its real and fake terms. The AEGAN paper's GAN round
    instead gives D 4 updates on alternate real and fake batches, then G 4 updates against
    that D. A diagnostic for the 2-D calibration (README), not one of the paper's models."""

    images_per_round = 4
    latents_per_round = 4
    round_calls = None  # not counted

    def round(self, state, images, latents):
        step = self.compiled("simultaneous_step", self.simultaneous_step)
        dx, g = [], []
        for i in range(4):
            state, (d_loss, g_loss) = step(state, images[i], latents[i])
            dx.append(d_loss)
            g.append(g_loss)
        return state, {"discriminator_image": ops.stack(dx), "generator": ops.stack(g)}

    def simultaneous_step(self, state, x, z):
        after_d, d_loss = self.update(state, "discriminator_image", self.discriminator_loss, (x, z))
        after_g, g_loss = self.update(state, "generator", self.generator_loss, z)
        # Both updates start from `state`; each keeps its own network's weights and Adam slots.
        # G's BatchNorm statistics come from G's update (the same batch moved them in both).
        # (The optimizer is named after the network it trains.)
        merged = {key: {**after_g[key], "discriminator_image": after_d[key]["discriminator_image"]}
                  for key in ("params", "buffers", "optimizers", "loss_scale") if key in state}
        return {**after_g, **merged}, (d_loss, g_loss)

    def discriminator_loss(self, state, inputs):
        # eq. 2 for D, in PacGAN's form: the real and the fake terms of one batch each, summed.
        x, z = inputs
        generated, state = self.call(state, "generator", z, training=True)
        logits, state = self.call(state, "discriminator_image", ops.concatenate([x, generated]), training=True)
        real, fake = _split(logits, 2)
        loss = losses.adversarial_loss(real, self.cfg.real_label) + losses.adversarial_loss(fake, self.cfg.fake_label)
        return {"loss": loss}, state


class AAE(RoundModel):
    """The AAE baseline: G, E and Dz of the AEGAN, same hyperparameters."""

    network_names = ("generator", "encoder", "discriminator_latent")
    optimizer_groups = {
        "discriminator_latent": (("discriminator_latent",), "discriminator_lr"),
        "generator_encoder": (("generator", "encoder"), "generator_encoder_lr"),
    }
    images_per_round = 6
    latents_per_round = 2
    round_calls = (("encoder", 2, 1), ("discriminator_latent", 4, 3),
                   ("encoder", 4, 3), ("generator", 4, 3), ("discriminator_latent", 4, 2))
    loss_names = {"discriminator_latent": ["loss"],
                  "generator_encoder": ["total", "image_reconstruction", "adversarial_latent_encoded"]}

    def round(self, state, images, latents):
        # AEGAN's latent half: Dz on z and E(x) in turn, then G and E as an autoencoder against it.
        return self.one_sided_round(state, "encoder", [images[0], images[1]], "discriminator_latent",
                                    [latents[0], latents[1]], "generator_encoder", self.autoencoder_loss,
                                    [images[i] for i in range(2, 6)])

    def autoencoder_loss(self, state, x):
        # eq. 6 (image term) + eq. 4 for G and E.
        c = self.cfg
        z_encoded, state = self.call(state, "encoder", x, training=True)
        x_tilde, state = self.call(state, "generator", z_encoded, training=True)
        logits, state = self.call(state, "discriminator_latent", z_encoded, training=True)
        image_rec = losses.image_reconstruction_loss(x, x_tilde)
        adversarial = losses.adversarial_loss(logits, 1.0)
        total = c.image_reconstruction_weight * image_rec + c.adversarial_weight * adversarial
        return {"total": total, "image_reconstruction": image_rec, "adversarial_latent_encoded": adversarial}, state
