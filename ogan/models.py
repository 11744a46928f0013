"""O-GAN: one joint update of E and G per step, on the objective of eq. 11 (losses.py)."""

from keras import ops

from common.model import PureModel
from common.optimizer import RMSprop
from ogan import losses
from ogan.networks import build_encoder, build_generator


class OGAN(PureModel):
    network_names = ("generator", "encoder")
    optimizer_groups = {"encoder_generator": (("encoder", "generator"), "learning_rate")}
    steps_per_round = 1
    images_per_round = 1
    latents_per_round = 1
    loss_names = {"encoder_generator": ["total", "score_gap", "rho"]}

    def build_networks(self, cfg):
        return {"generator": build_generator(cfg), "encoder": build_encoder(cfg)}

    def make_optimizer(self, learning_rate):
        return RMSprop(learning_rate, rho=self.cfg.rmsprop_rho)

    def round(self, state, images, latents):
        state, values = self.repeated_update(state, "encoder_generator", self.objective,
                                             [(images[0], latents[0])])
        return state, {"encoder_generator": values}

    def objective(self, state, inputs):
        # eq. 11 as the authors compute it: E on real, fake and stop-gradient fake, each call
        # with its own BatchNorm statistics.
        x, z = inputs
        c = self.cfg
        x_fake, state = self.call(state, "generator", z, training=True)
        codes_real, state = self.call(state, "encoder", x, training=True)
        codes_fake, state = self.call(state, "encoder", x_fake, training=True)
        codes_stopped, state = self.call(state, "encoder", ops.stop_gradient(x_fake), training=True)
        score_real, score_fake, score_stopped = (losses.score(c_) for c_ in
                                                 (codes_real, codes_fake, codes_stopped))
        total = losses.ogan_loss(score_real, score_fake, score_stopped, z, codes_fake, x,
                                 ops.stop_gradient(x_fake), c.correlation_weight, c.qp_weight)
        gap = losses.encoder_score_gap(score_real, score_stopped)
        rho = losses.pearson_correlation(z, codes_fake)
        return [total, ops.mean(gap), ops.mean(rho)], state

    def encode(self, state, x):
        # eq. 10: the code of x is E(x) standardised per sample (times the authors' 0.9, optional).
        codes = self.call(state, "encoder", x, training=False)[0]
        codes = codes - ops.mean(codes, axis=-1, keepdims=True)
        codes = codes / (ops.std(codes, axis=-1, keepdims=True) + 1e-8)
        return codes * self.cfg.reconstruction_scale
