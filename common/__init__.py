"""What the AEGAN and O-GAN implementations share: data, engine, loop, checkpoints, images."""


class UserError(Exception):
    """Input a user can fix (a path, a flag, a file): scripts print its message in one line."""
