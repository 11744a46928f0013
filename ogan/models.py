"""O-GAN: one joint update of E and G per step, on the objective of eq. 11 (losses.py)."""

from keras import ops

from common.images import GridLayout
from common.model import PureModel
from common.optimizer import Adam, RMSprop
from ogan import losses
from ogan.networks import build_encoder, build_generator, build_head


class OGAN(PureModel):
    steps_per_round = 1
    images_per_round = 1
    latents_per_round = 1
    # E on real (to weights), on G(z) (to weights and image), on sg(G(z)) (to weights); G to weights.
    round_calls = (("generator", 1, 2), ("encoder", 1, 2), ("encoder", 1, 3), ("encoder", 1, 2))
    loss_names = {"generator_encoder": ["total", "score_gap", "rho"]}
    # The paper's figures: 9x9 samples, 8x8 real/reconstruction, rows of real, reconstruction,
    # 8 codes between, reconstruction, real.
    grids = GridLayout(samples=81, sample_columns=9, random_samples=81, random_columns=9,
                       pairs=32, pair_columns=8, interpolation_rows=8, interpolation_points=10)
    # XLA:CPU runs the transposed convolutions far off TF's own CPU kernels: 369.2 against
    # 63.7 ms/step at the small preset (benchmarks/train_step.py). GPUs and JAX still use XLA.
    xla_on_cpu = False

    def __init__(self, cfg):
        # With the option of eq. 5, a separate head T scores E's codes and trains with E.
        head = ("head",) if cfg.score == "head" else ()
        self.network_names = ("generator", "encoder", *head)
        self.optimizer_groups = {"generator_encoder": (("encoder", *head, "generator"), "learning_rate")}
        super().__init__(cfg)

    def build_networks(self, cfg):
        nets = {"generator": build_generator(cfg), "encoder": build_encoder(cfg)}
        if "head" in self.network_names:
            nets["head"] = build_head(cfg)
        return nets

    def make_optimizer(self, learning_rate):
        if self.cfg.optimizer == "adam":
            return Adam(learning_rate, beta_1=self.cfg.adam_beta_1)
        return RMSprop(learning_rate, rho=self.cfg.rmsprop_rho)

    def round(self, state, images, latents):
        state, values = self.repeated_update(state, "generator_encoder", self.objective,
                                             [(images[0], latents[0])])
        return state, {"generator_encoder": values}

    def score(self, state, codes):
        """D(x) from E(x): its mean over dimensions (eq. 8) or the head T (eq. 5)."""
        if self.cfg.score == "average":
            return losses.score(codes), state
        out, state = self.call(state, "head", codes, training=True)
        return out[:, 0], state

    def objective(self, state, inputs):
        # eq. 11 as the authors compute it: E on the fake, the stop-gradient fake and real x,
        # each call with its own BatchNorm statistics. Their code updates E's moving statistics
        # in this order, the real batch last (docs/equivalence.md); the loss does not depend on it.
        x, z = inputs
        c = self.cfg
        x_fake, state = self.call(state, "generator", z, training=True)
        codes_fake, state = self.call(state, "encoder", x_fake, training=True)
        codes_stopped, state = self.call(state, "encoder", ops.stop_gradient(x_fake), training=True)
        codes_real, state = self.call(state, "encoder", x, training=True)
        score_real, state = self.score(state, codes_real)
        score_fake, state = self.score(state, codes_fake)
        score_stopped, state = self.score(state, codes_stopped)
        total = losses.ogan_loss(score_real, score_fake, score_stopped, z, codes_fake, x,
                                 ops.stop_gradient(x_fake), c.correlation_weight, c.qp_weight,
                                 c.adversarial)
        gap = losses.encoder_score_gap(score_real, score_stopped)
        rho = losses.pearson_correlation(z, codes_fake)
        return {"total": total, "score_gap": ops.mean(gap), "rho": ops.mean(rho)}, state

    def encode(self, state, x):
        # eq. 10: the code of x is E(x) standardised per sample (times the authors' 0.9, optional).
        codes = super().encode(state, x)
        codes = codes - ops.mean(codes, axis=-1, keepdims=True)
        codes = codes / (ops.std(codes, axis=-1, keepdims=True) + 1e-8)
        return codes * self.cfg.reconstruction_scale
