"""AEGAN and its GAN and AAE baselines: one round of the authors' training loop each.

A round is 4 of the authors' "steps". Its fakes are made once, in inference mode, at the
start (the authors' `predict`); then come 4 discriminator updates and 4 generator-side
updates, each its own optimizer step. Every piece is a pure function of `state`, a dict of
arrays, compiled once by `common.engine` (XLA on TF and JAX) and called with the device
arrays the previous piece returned: nothing goes back to the host inside a round.
(One program for the whole round needs a loop over the 4 updates, and XLA's CPU backend
runs convolutions inside a loop body far off its fast path: a G+E update took 3.8 s on
its own and over 290 s as a one-iteration loop on the 2-core CI machine.)
The networks an update does not train are frozen by taking no gradient for them, never by
`trainable = False` (KERAS_NOTES.md).
"""

import numpy as np
from keras import ops

from aegan import losses
from aegan.networks import build_networks
from common import engine
from common.optimizer import Adam


class RoundModel:
    """Networks, their optimizers and the pure round function of one model."""

    network_names = ()
    optimizer_groups = {}  # optimizer name -> (networks it trains, config field of its lr)
    images_per_round = 0  # real image batches a round draws
    latents_per_round = 0  # z batches a round draws
    loss_names = {}  # optimizer name -> names of the values each of its updates returns

    def __init__(self, cfg):
        self.cfg = cfg
        self.nets = build_networks(cfg, self.network_names)
        self._compiled = {}
        self.optimizers = {
            name: Adam(getattr(cfg, lr_field), beta_1=cfg.adam_beta_1, clipnorm=cfg.clipnorm)
            for name, (_, lr_field) in self.optimizer_groups.items()}

    # -- state -------------------------------------------------------------------------

    def initial_state(self):
        """Every array that training changes: weights, noise-layer seeds, optimizer slots."""
        return {
            "params": {n: _values(m.trainable_variables) for n, m in self.nets.items()},
            "buffers": {n: _values(m.non_trainable_variables) for n, m in self.nets.items()},
            "optimizers": {
                name: opt.init([p for n in self.optimizer_groups[name][0]
                                for p in _values(self.nets[n].trainable_variables)])
                for name, opt in self.optimizers.items()},
        }

    def sync_variables(self, state):
        """Write a state's weights into the Keras models, e.g. to call or save them directly."""
        for n, m in self.nets.items():
            for v, a in zip(m.trainable_variables, state["params"][n]):
                v.assign(a)
            for v, a in zip(m.non_trainable_variables, state["buffers"][n]):
                v.assign(a)

    # -- building blocks of a round ------------------------------------------------------

    def call(self, state, name, inputs, training):
        """Run one network; returns its output and the state with its noise seeds advanced."""
        out, buffers = self.nets[name].stateless_call(
            state["params"][name], state["buffers"][name], inputs, training=training)
        return out, {**state, "buffers": {**state["buffers"], name: buffers}}

    def update(self, state, optimizer, loss_fn, inputs):
        """One optimizer step on loss_fn(state, inputs) -> (values, state), values[0] the loss.

        Gradients are taken for the optimizer's own networks only.
        """
        names = self.optimizer_groups[optimizer][0]

        def objective(trained, state):
            state = {**state, "params": {**state["params"], **dict(zip(names, trained))}}
            values, state = loss_fn(state, inputs)
            return values[0], (values, state)

        trained = [state["params"][n] for n in names]
        (_, (values, state)), grads = engine.value_and_grad(objective)(trained, state)
        flat_params = [p for group in trained for p in group]
        flat_grads = [g for group in grads for g in group]
        new_params, new_slots = self.optimizers[optimizer].apply(
            state["optimizers"][optimizer], flat_grads, flat_params)
        params, i = dict(state["params"]), 0
        for n in names:
            k = len(state["params"][n])
            params[n], i = list(new_params[i:i + k]), i + k
        state = {**state, "params": params,
                 "optimizers": {**state["optimizers"], optimizer: new_slots}}
        return state, ops.stack([ops.cast(v, "float32") for v in values])

    def compiled(self, name, fn):
        """fn compiled once per model: a round calls each kind of update several times."""
        if name not in self._compiled:
            self._compiled[name] = engine.compile(fn)
        return self._compiled[name]

    def discriminator_updates(self, state, network, batches):
        """The 4 updates of one discriminator: real, fake, real, fake (smoothed labels)."""
        c = self.cfg

        def loss(state, inputs):
            batch, label = inputs
            logits, state = self.call(state, network, batch, training=True)
            return [losses.adversarial_loss(logits, label)], state

        step = self.compiled(network, lambda s, b, l: self.update(s, network, loss, (b, l)))
        values = []
        for batch, label in zip(batches, (c.real_label, c.fake_label) * 2):
            state, v = step(state, batch, np.float32(label))
            values.append(v)
        return state, ops.stack(values)

    def repeated_update(self, state, optimizer, loss_fn, inputs):
        """One update per element of `inputs` (4 per round), compiled once."""
        step = self.compiled(optimizer, lambda s, inp: self.update(s, optimizer, loss_fn, inp))
        values = []
        for inp in inputs:
            state, v = step(state, inp)
            values.append(v)
        return state, ops.stack(values)

    # -- inference ---------------------------------------------------------------------

    def generate(self, state, z):
        return self.call(state, "generator", z, training=False)[0]

    def encode(self, state, x):
        return self.call(state, "encoder", x, training=False)[0]

    def round(self, state, images, latents):
        """One round: images (images_per_round, B, H, W, 3), latents (latents_per_round, B, D).

        Returns the new state and {optimizer name: (4, len(loss_names)) losses}.
        """
        raise NotImplementedError


def _values(variables):
    # NumPy, not the variables themselves: a compiled round must see the same kind of
    # input on its first call as on later ones, or it compiles again.
    return [np.array(v.numpy()) for v in variables]


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
                                         list(zip(images[4:8], latents[4:8])))
        return state, {"discriminator_image": dx, "discriminator_latent": dz,
                       "generator_encoder": ge}

    def fakes(self, state, x_for_x_tilde, x_for_z_hat, z_for_x_hat, z_for_z_tilde):
        """The round's fakes, in inference mode (G and E calls batched: the same math)."""
        codes = self.encode(state, ops.concatenate([x_for_x_tilde, x_for_z_hat]))
        code_x_tilde, z_hat = _split(codes, 2)
        generated = self.generate(state, ops.concatenate([z_for_x_hat, code_x_tilde, z_for_z_tilde]))
        x_hat, x_tilde, image_for_z_tilde = _split(generated, 3)
        return x_hat, x_tilde, z_hat, self.encode(state, image_for_z_tilde)

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
        adversarial = [losses.adversarial_loss(logits, 1.0) for logits in
                       (dx_generated, dx_reconstructed, dz_encoded, dz_reconstructed)]
        total = (c.image_reconstruction_weight * image_rec
                 + c.latent_reconstruction_weight * latent_rec
                 + c.adversarial_weight * sum(adversarial))
        return [total, image_rec, latent_rec, *adversarial], state


class GAN(RoundModel):
    """The GAN baseline: G and Dx of the AEGAN, same hyperparameters."""

    network_names = ("generator", "discriminator_image")
    optimizer_groups = {
        "discriminator_image": (("discriminator_image",), "discriminator_lr"),
        "generator": (("generator",), "generator_encoder_lr"),
    }
    images_per_round = 2
    latents_per_round = 6
    loss_names = {"discriminator_image": ["loss"], "generator": ["adversarial_image_generated"]}

    def round(self, state, images, latents):
        generate = self.compiled("fakes", lambda s, z: _split(self.generate(s, z), 2))
        x_hat_a, x_hat_b = generate(state, np.concatenate([latents[0], latents[1]]))
        state, dx = self.discriminator_updates(state, "discriminator_image",
                                               [images[0], x_hat_a, images[1], x_hat_b])
        state, g = self.repeated_update(state, "generator", self.generator_loss, list(latents[2:6]))
        return state, {"discriminator_image": dx, "generator": g}

    def generator_loss(self, state, z):
        # eq. 2 for G.
        logits, state = self.call(state, "discriminator_image",
                                  self.call(state, "generator", z, training=True)[0], training=True)
        return [losses.adversarial_loss(logits, 1.0)], state


class AAE(RoundModel):
    """The AAE baseline: G, E and Dz of the AEGAN, same hyperparameters."""

    network_names = ("generator", "encoder", "discriminator_latent")
    optimizer_groups = {
        "discriminator_latent": (("discriminator_latent",), "discriminator_lr"),
        "generator_encoder": (("generator", "encoder"), "generator_encoder_lr"),
    }
    images_per_round = 6
    latents_per_round = 2
    loss_names = {"discriminator_latent": ["loss"],
                  "generator_encoder": ["total", "image_reconstruction", "adversarial_latent_encoded"]}

    def round(self, state, images, latents):
        encode = self.compiled("fakes", lambda s, x: _split(self.encode(s, x), 2))
        z_hat_a, z_hat_b = encode(state, np.concatenate([images[0], images[1]]))
        state, dz = self.discriminator_updates(state, "discriminator_latent",
                                               [latents[0], z_hat_a, latents[1], z_hat_b])
        state, ge = self.repeated_update(state, "generator_encoder", self.autoencoder_loss,
                                         list(images[2:6]))
        return state, {"discriminator_latent": dz, "generator_encoder": ge}

    def autoencoder_loss(self, state, x):
        # eq. 6 (image term) + eq. 4 for G and E.
        c = self.cfg
        z_encoded, state = self.call(state, "encoder", x, training=True)
        x_tilde, state = self.call(state, "generator", z_encoded, training=True)
        logits, state = self.call(state, "discriminator_latent", z_encoded, training=True)
        image_rec = losses.image_reconstruction_loss(x, x_tilde)
        adversarial = losses.adversarial_loss(logits, 1.0)
        total = c.image_reconstruction_weight * image_rec + c.adversarial_weight * adversarial
        return [total, image_rec, adversarial], state


MODELS = {"aegan": AEGAN, "gan": GAN, "aae": AAE}


def build_model(cfg):
    return MODELS[cfg.model](cfg)
