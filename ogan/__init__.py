"""O-GAN (Su 2019): the discriminator is an encoder, D(x) = avg(E(x)).

Its config (`config.py`), networks (`networks.py`), loss terms, one function per equation
(`losses.py`), the pure model and its training iteration (`models.py`), and the authors'
layers matched to these, for replaying their steps (`authors.py`). `experiments/ogan_celeba.py` trains it.
"""
