"""What the AEGAN and O-GAN implementations share: data, engine, loop, checkpoints, images."""
