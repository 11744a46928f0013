"""AEGAN hyperparameters as plain values; the defaults are the paper's (section 4)."""

import dataclasses
import math

from common.config import check_precision, from_preset, require

ARCHITECTURES = ("conv", "mlp", "pacgan")


@dataclasses.dataclass
class AEGANConfig:
    model: str = "aegan"  # its entry in runs/registry.py: aegan, gan, aae, gan-simultaneous
    resolution: int = 64
    latent_dim: int = 32  # the paper's N_32(0, I); the authors' code defaults to 16
    batch_size: int = 16
    steps: int = 300_000  # the authors' steps: one round of updates = 4 steps
    width: float = 1.0  # multiplies every convolution's channel count (1.0 = paper)
    mirror: bool = True  # horizontal-flip doubling: 21,552 -> 43,104 images
    # "conv": the paper's networks on images; "mlp": small dense networks on 2-D points, for
    # the mode-collapse benchmark (collapse/mixtures.py), with the same losses and updates;
    # "pacgan": PacGAN's 2-D networks (common/mlp.py), the "pacgan" preset's.
    architecture: str = "conv"
    hidden_units: int = 128  # mlp: 3 hidden layers of this width in G, E and Dx
    # Networks, as the authors' code builds them.
    input_noise: float = 0.01  # GaussianNoise stddev on E, Dx and Dz inputs
    dropout_rate: float = 0.005  # GaussianDropout rate in E, Dx and Dz blocks
    leaky_slope: float = 0.02  # the authors' "leaky_relu"
    latent_blocks: int = 16  # Dz's densely connected blocks
    latent_block_units: int = 16
    # Losses and optimizers.
    image_reconstruction_weight: float = 10.0
    latent_reconstruction_weight: float = 5.0
    adversarial_weight: float = 1.0
    # The round's fakes in training mode (batch statistics), not inference mode as the authors'
    # `predict`: for networks with BatchNorm (the "pacgan" preset's G and E).
    fakes_in_training_mode: bool = False
    real_label: float = 0.95
    fake_label: float = 0.05
    discriminator_lr: float = 5e-4
    generator_encoder_lr: float = 2e-4
    adam_beta_1: float = 0.5
    clipnorm: float = 1.0  # each gradient tensor clipped to this norm; 0: no clipping
    # Layers compute in bfloat16 or float16 under a mixed policy; weights, network outputs and
    # losses stay float32 (float16 adds dynamic loss scaling).
    precision: str = "float32"

    @property
    def rounds(self):
        return math.ceil(self.steps / 4)

    def validate(self):
        require(self.architecture in ARCHITECTURES,
                f"architecture must be one of {', '.join(ARCHITECTURES)}, not {self.architecture!r}")
        r = self.resolution
        require(r in (32, 64, 128) or self.architecture != "conv", f"resolution must be 32, 64 or 128, not {r}")
        require(self.hidden_units >= 1, f"hidden units must be at least 1, not {self.hidden_units}")
        require(self.latent_dim >= 1, f"latent size must be at least 1, not {self.latent_dim}")
        require(self.batch_size >= 1, f"batch size must be at least 1, not {self.batch_size}")
        require(self.steps >= 1, f"steps must be at least 1, not {self.steps}")
        require(self.width > 0, f"width must be positive, not {self.width}")
        require(0 <= self.dropout_rate < 1, f"dropout rate must be in [0, 1), not {self.dropout_rate}")
        require(self.input_noise >= 0, f"input noise must be >= 0, not {self.input_noise}")
        for name in ("discriminator_lr", "generator_encoder_lr"):
            require(getattr(self, name) > 0, f"{name} must be positive, not {getattr(self, name)}")
        require(self.clipnorm >= 0, f"clipnorm must be >= 0 (0: no clipping), not {self.clipnorm}")
        check_precision(self.precision)
        return self


PRESETS = {
    # The paper's setting (section 4): 64x64, latent 32, batch 16, 300k steps.
    "paper": {},
    # Minutes on a 2-core CPU: 32x32 and a quarter of the channels.
    "small": {"resolution": 32, "width": 0.25, "steps": 4000},
    # The mode-collapse benchmark's own 2-D protocol (mode_collapse.py --protocol mlp): dense
    # networks of 3 x 128 units on 2-D points, latent 8, batch 100; the paper's optimizers.
    "mlp": {"architecture": "mlp", "latent_dim": 8, "batch_size": 100, "mirror": False},
    # PacGAN's 2-D protocol (its Table 1): its networks, latent N_2(0, I), batch 100, Adam 1e-4
    # with beta_1 0.8 for every optimizer, no clipping, and the plain GAN loss (labels 1 and 0).
    # The models keep their own losses, loss weights and update order. 400k steps: each step
    # is one generator-side update, as each of PacGAN's iterations is one G update.
    "pacgan": {"architecture": "pacgan", "latent_dim": 2, "batch_size": 100, "mirror": False,
               "steps": 400_000, "discriminator_lr": 1e-4, "generator_encoder_lr": 1e-4,
               "adam_beta_1": 0.8, "clipnorm": 0.0, "real_label": 1.0, "fake_label": 0.0,
               "fakes_in_training_mode": True},
    # Seconds: for tests.
    "tiny": {"resolution": 32, "width": 0.0625, "latent_dim": 8, "batch_size": 4,
             "latent_blocks": 2, "steps": 8},
}


def make_config(preset="paper", **overrides):
    """The preset's values, then every override that is not None."""
    return from_preset(AEGANConfig, PRESETS, preset, overrides)
