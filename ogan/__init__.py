"""O-GAN (Su 2019): the discriminator is an encoder, D(x) = avg(E(x)).

Networks and loss terms are here; the training step and experiment script are issue 3's
next part.
"""
