"""AEGAN (Lazarou 2020) and its GAN and AAE baselines."""
