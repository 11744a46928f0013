"""O-GAN (Su 2019): the discriminator is an encoder. Not implemented yet (issue 3)."""
