"""What the AEGAN and O-GAN implementations share.

The backend seam (`engine`), the pure model base (`model`), optimizers, configs, the training
loop (`loop`: one run, or several seeds stacked into one program by `batched_runs`), what it
writes in a run folder (`run_folder`: lock, logs, fixed inputs, grids, resume), the CPU compile choice
(`cpu_compile`), checkpoints and the files they are written with (`files`), data (`data` for
image folders, `stacked_digits` for the stacked embedded digits), dense networks for 2-D points
(`mlp`), images, inference, metrics and evaluation, and Keras 2 layers and weights for reading
the authors' checkpoints (`keras2_layers`, `keras2_weights`). The mode-collapse benchmarks
built on these are the `collapse` package.
"""


class UserError(Exception):
    """Input a user can fix (a path, a flag, a file): scripts print its message in one line."""
