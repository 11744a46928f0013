"""O-GAN hyperparameters as plain values; the defaults are the paper's (section 5)."""

import dataclasses
import math

from common.config import check_precision, from_preset, require

RESOLUTIONS = (32, 64, 128, 256)
ADVERSARIAL = ("linear", "vanilla", "hinge")  # the f, g, h choices of eq. 6 (losses.ADVERSARIAL)
SCORES = ("average", "head")  # D(x) = avg(E(x)) (eq. 8) or a separate head T(E(x)) (eq. 5)
GENERATOR_NORMS = ("batch", "self-modulated")


@dataclasses.dataclass
class OGANConfig:
    model: str = "ogan"  # its entry in runs/registry.py
    resolution: int = 128
    latent_dim: int = 128
    batch_size: int = 64
    steps: int = 50_000  # iterations: one joint E and G update each
    width: float = 1.0  # multiplies every channel count (1.0 = Table 1)
    kernel_size: int = 5  # the authors' variant uses 4
    leaky_slope: float = 0.2
    correlation_weight: float = 0.5  # lambda_2 of eq. 11 (1.0 in the authors' 256x256 setting)
    qp_weight: float = 0.25  # lambda_1 * n_x of eq. 12: lambda_1 = 0.25 / n_x
    learning_rate: float = 1e-4  # RMSprop, rho 0.99, one optimizer over E and G
    rmsprop_rho: float = 0.99
    optimizer: str = "rmsprop"  # or "adam" (the "pacgan" preset's)
    adam_beta_1: float = 0.8
    reconstruction_scale: float = 1.0  # the authors' code uses 0.9 (eq. 10 has none)
    adversarial: str = "linear"  # eq. 11: f(t) = h(t) = t, g(t) = -t
    score: str = "average"
    generator_norm: str = "batch"  # the authors' 4x4 variant modulates BatchNorm by z
    ema_decays: tuple = ()  # weight averages kept (the authors': 0.999, 0.9999); the first samples
    mirror: bool = False  # the paper does not flip images
    # "mlp" or "pacgan": dense networks on 2-D points (mode-collapse benchmark, common/mlp.py)
    architecture: str = "conv"
    hidden_units: int = 128
    # Layers compute in bfloat16 or float16 under a mixed policy; weights, network outputs and
    # losses stay float32 (float16 adds dynamic loss scaling).
    precision: str = "float32"

    @property
    def base_channels(self):
        return max(1, round(64 * self.width))

    @property
    def blocks(self):
        """Stride-2 blocks between the image and 4x4 (5 at 128x128: Table 1)."""
        return int(math.log2(self.resolution)) - 2

    def validate(self):
        require(self.architecture in ("conv", "mlp", "pacgan"),
                f"architecture must be one of conv, mlp, pacgan, not {self.architecture!r}")
        require(self.optimizer in ("rmsprop", "adam"), f"optimizer must be rmsprop or adam, not {self.optimizer!r}")
        require(self.resolution in RESOLUTIONS or self.architecture != "conv",
             f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}, not {self.resolution}")
        require(self.latent_dim >= 2, f"latent size must be at least 2 (a correlation needs two values), not {self.latent_dim}")
        require(self.batch_size >= 1, f"batch size must be at least 1, not {self.batch_size}")
        require(self.steps >= 1, f"steps must be at least 1, not {self.steps}")
        require(self.width > 0, f"width must be positive, not {self.width}")
        require(self.kernel_size in (4, 5), f"kernel size must be 4 or 5, not {self.kernel_size}")
        require(self.learning_rate > 0, f"learning rate must be positive, not {self.learning_rate}")
        require(self.correlation_weight >= 0, f"correlation weight must be >= 0, not {self.correlation_weight}")
        require(self.qp_weight >= 0, f"QP weight must be >= 0, not {self.qp_weight}")
        require(self.reconstruction_scale > 0,
                f"reconstruction scale must be positive, not {self.reconstruction_scale}")
        for name, allowed in (("adversarial", ADVERSARIAL), ("score", SCORES),
                              ("generator_norm", GENERATOR_NORMS)):
            require(getattr(self, name) in allowed,
                    f"{name.replace('_', ' ')} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        self.ema_decays = tuple(float(d) for d in self.ema_decays)
        require(all(0 < d < 1 for d in self.ema_decays),
                f"EMA decays must lie strictly between 0 and 1, not {self.ema_decays}")
        require(len(set(self.ema_decays)) == len(self.ema_decays), f"EMA decays repeat: {self.ema_decays}")
        check_precision(self.precision)
        return self


PRESETS = {
    # The paper's setting (section 5): 128x128, z 128, batch 64, 50k iterations.
    "paper": {},
    # The authors' code at 128x128: 4x4 kernels, G's BatchNorm modulated by z, weight
    # averages for sampling, codes scaled by 0.9 before decoding.
    "authors": {"kernel_size": 4, "generator_norm": "self-modulated", "ema_decays": (0.999, 0.9999),
                "reconstruction_scale": 0.9},
    # The authors' 256x256 setting (combine with the variant's flags as wanted).
    "256": {"resolution": 256, "latent_dim": 256, "batch_size": 48, "correlation_weight": 1.0},
    # Minutes on a 2-core CPU (58.5 ms/step): 32x32, half the channels, the paper's correlation
    # weight 0.5. On CelebA at 12,000 steps, five seeds each (docs/ogan.md, claim 1), 0.5 gave
    # better samples than 2 (NDB/K 0.19 against 0.31, JSD 0.016 against 0.026) and nearly as
    # close reconstructions (held-out L1 0.152 against 0.139); on stacked digits both collapse.
    # (rho levels off near 0.66 at 0.5 and 0.87 at 2.) The shipped ogan-celeba-small used 2.
    "small": {"resolution": 32, "width": 0.5, "steps": 8000},
    # The mode-collapse benchmark's own 2-D protocol (aegan/config.py): dense networks, batch 100,
    # z 8 (the correlation of eq. 11 needs at least 3 values), the paper's optimizer.
    "mlp": {"architecture": "mlp", "latent_dim": 8, "batch_size": 100},
    # PacGAN's 2-D protocol (aegan/config.py): its networks (E as its D, with a latent_dim output),
    # batch 100, Adam 1e-4 with beta_1 0.8. z stays 8-D: the correlation term of eq. 11 is
    # +-1 for any two 2-D vectors, so a 2-D z would leave O-GAN without it.
    "pacgan": {"architecture": "pacgan", "latent_dim": 8, "batch_size": 100, "steps": 400_000,
               "optimizer": "adam", "adam_beta_1": 0.8},
    # Seconds: for tests.
    "tiny": {"resolution": 32, "width": 0.0625, "latent_dim": 16, "batch_size": 8, "steps": 4},
}


def make_config(preset="paper", **overrides):
    """The preset's values, then every override that is not None."""
    return from_preset(OGANConfig, PRESETS, preset, overrides)
