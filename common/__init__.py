"""What the AEGAN and O-GAN implementations share.

The backend seam (`engine`), the pure model base (`model`), optimizers, configs, the training
loop (`loop`, and `batched_runs` for several seeds in one program), the CPU compile choice
(`cpu_compile`), checkpoints, data (`data`; `mixtures`, `stacked_digits` and `mlp` for the
mode-collapse benchmarks), images, inference, metrics and evaluation, and Keras 2 layers and
weights for reading the authors' checkpoints (`keras2_layers`, `keras2_weights`).
"""


class UserError(Exception):
    """Input a user can fix (a path, a flag, a file): scripts print its message in one line."""
