"""The small dense networks that stand in for the convolutional ones on 2-D points (the
mode-collapse benchmark, common/mixtures.py): same losses and updates, other networks."""

from keras import layers

POINT_DIM = 2


def hidden_layers(x, units, activation, count=3):
    for i in range(count):
        x = activation()(layers.Dense(units, name=f"hidden{i}_dense")(x))
    return x
