"""Read the AEGAN authors' Keras 2 HDF5 files (their train.py's checkpoints) into our networks.

Each of their layers that holds weights is matched, in their model's layer order, to the
first of our layers not yet matched that has the same kind (Dense, Conv2D,
LayerNormalization) and the same weight shapes (common/keras2_weights.py); in AEGAN's
networks the shapes make the match unambiguous.
"""

from common.keras2_weights import assign, layers_of_keys, match_layers, read_h5

FILES = {  # our network -> the file name the authors' train.py writes
    "generator": "generator.h5",
    "encoder": "encoder.h5",
    "discriminator_image": "discriminator_image.h5",
    "discriminator_latent": "discriminator_latent.h5",
}


def input_shape(config):
    layer = config["config"]["layers"][0]["config"]
    return tuple(layer.get("batch_input_shape") or layer.get("batch_shape"))[1:]


def infer_sizes(generator_path, encoder_path):
    """(latent size, resolution): the generator's input and the encoder's input."""
    latent_dim = int(input_shape(read_h5(generator_path)[0])[0])
    return latent_dim, int(input_shape(read_h5(encoder_path)[0])[0])


def load_into(model, path):
    """Set a Keras model's weights from one authors' file; returns their weights' order as
    [(our variable, position in their model.weights)] for comparing later weights."""
    layers = read_h5(path)[1]
    return assign(layers, match_layers(layers, model, path))


def load_keyed(model, tensors):
    """Set every network's weights from their tensors keyed `NET/K/LAYER/WEIGHT` (NET: our
    network's name). Returns {network: [(our variable, K)]}."""
    order = {}
    for net, keras_model in model.nets.items():
        theirs = layers_of_keys({k: v for k, v in tensors.items() if k.split("/")[0] == net})
        order[net] = assign(theirs, match_layers(theirs, keras_model, f"the authors' {net}"))
    return order
