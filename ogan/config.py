"""O-GAN hyperparameters as plain values; the defaults are the paper's (section 5)."""

import dataclasses
import math

from common.config import from_preset, require

RESOLUTIONS = (32, 64, 128, 256)


@dataclasses.dataclass
class OGANConfig:
    resolution: int = 128
    z_dim: int = 128
    batch_size: int = 64
    steps: int = 50_000  # iterations: one joint E and G update each
    width: float = 1.0  # multiplies every channel count (1.0 = Table 1)
    kernel_size: int = 5  # the authors' variant uses 4
    leaky_slope: float = 0.2
    correlation_weight: float = 0.5  # lambda_2 of eq. 11 (1.0 in the authors' 256x256 setting)
    qp_weight: float = 0.25  # lambda_1 * n_x of eq. 12: lambda_1 = 0.25 / n_x
    learning_rate: float = 1e-4  # RMSprop, rho 0.99, one optimizer over E and G
    rmsprop_rho: float = 0.99
    reconstruction_scale: float = 1.0  # the authors' code uses 0.9 (eq. 10 has none)
    mirror: bool = False  # the paper does not flip images

    @property
    def base_channels(self):
        return max(1, round(64 * self.width))

    @property
    def blocks(self):
        """Stride-2 blocks between the image and 4x4 (5 at 128x128: Table 1)."""
        return int(math.log2(self.resolution)) - 2

    def validate(self):
        require(self.resolution in RESOLUTIONS,
             f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}, not {self.resolution}")
        require(self.z_dim >= 2, f"z size must be at least 2 (a correlation needs two values), not {self.z_dim}")
        require(self.batch_size >= 1, f"batch size must be at least 1, not {self.batch_size}")
        require(self.steps >= 1, f"steps must be at least 1, not {self.steps}")
        require(self.width > 0, f"width must be positive, not {self.width}")
        require(self.kernel_size in (4, 5), f"kernel size must be 4 or 5, not {self.kernel_size}")
        require(self.learning_rate > 0, f"learning rate must be positive, not {self.learning_rate}")
        return self


PRESETS = {
    # The paper's setting (section 5): 128x128, z 128, batch 64, 50k iterations.
    "paper": {},
    # About an hour on a 2-core CPU: 64x64 and a quarter of the channels.
    "small": {"resolution": 64, "width": 0.25, "steps": 5000},
    # Seconds: for tests.
    "tiny": {"resolution": 32, "width": 0.0625, "z_dim": 16, "batch_size": 8, "steps": 4},
}


def make_config(preset="paper", **overrides):
    """The preset's values, then every override that is not None."""
    return from_preset(OGANConfig, PRESETS, preset, overrides)
