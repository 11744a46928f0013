"""Read the AEGAN authors' Keras 2 HDF5 files (their train.py's checkpoints) into our networks.

Each of their layers that holds weights is matched, in their model's layer order, to the
first of our layers not yet matched that has the same kind (Dense, Conv2D,
LayerNormalization) and the same weight shapes. Their layer names carry creation order
(`conv2d_3`), ours carry roles (`block3_conv`); the shapes make the match unambiguous.
"""

import json
import os

import h5py
import numpy as np

from common import UserError

FILES = {  # our network -> the file name the authors' train.py writes
    "generator": "generator.h5",
    "encoder": "encoder.h5",
    "discriminator_image": "discriminator_image.h5",
    "discriminator_latent": "discriminator_latent.h5",
}


class AuthorsFileError(UserError, ValueError):
    """An authors' file that does not fit our architecture; the message names the layer."""


def read_h5(path):
    """(model config, [(layer name, class name, [arrays])]) of the layers that hold weights."""
    if not os.path.exists(path):
        raise AuthorsFileError(f"file does not exist: {path}")
    try:
        with h5py.File(path, "r") as f:
            config = json.loads(f.attrs["model_config"])
            group = f["model_weights"] if "model_weights" in f else f
            layers = []
            for layer in config["config"]["layers"]:
                name = layer["config"]["name"]
                if name not in group:
                    continue
                names = [n.decode() if isinstance(n, bytes) else n
                         for n in group[name].attrs.get("weight_names", [])]
                if names:
                    layers.append((name, layer["class_name"], [np.asarray(group[name][n]) for n in names]))
    except (OSError, KeyError, ValueError) as e:
        raise AuthorsFileError(f"cannot read {path} as a Keras HDF5 model: {e}") from None
    return config, layers


def input_shape(config):
    layer = config["config"]["layers"][0]["config"]
    return tuple(layer.get("batch_input_shape") or layer.get("batch_shape"))[1:]


def infer_sizes(generator_path, encoder_path):
    """(latent size, resolution): the generator's input and the encoder's input."""
    latent_dim = int(input_shape(read_h5(generator_path)[0])[0])
    return latent_dim, int(input_shape(read_h5(encoder_path)[0])[0])


def match_layers(author_layers, model, path=""):
    """[(their layer index, our layer)] matching every weighted layer of both, or an error."""
    ours = [l for l in model.layers if l.weights]
    used = set()
    pairs = []
    for i, (name, cls, arrays) in enumerate(author_layers):
        shapes = [a.shape for a in arrays]
        match = next((j for j, l in enumerate(ours) if j not in used and type(l).__name__ == cls
                      and [tuple(w.shape) for w in l.weights] == shapes), None)
        if match is None:
            raise AuthorsFileError(f"{path or model.name}: layer {name!r} ({cls}, weights "
                               f"{', '.join(str(s) for s in shapes)}) fits no layer of our {model.name}")
        used.add(match)
        pairs.append((i, ours[match]))
    left = [l.name for j, l in enumerate(ours) if j not in used]
    if left:
        raise AuthorsFileError(f"{path or model.name}: our {model.name} layer(s) {', '.join(left)} "
                           f"got no weights from the file")
    return pairs


def load_into(model, path):
    """Set a Keras model's weights from one authors' file; returns their weights' order as
    [(our variable, position in their model.weights)] for comparing later weights."""
    _, layers = read_h5(path)
    order, position = [], 0
    starts = []
    for _, _, arrays in layers:
        starts.append(position)
        position += len(arrays)
    for i, layer in match_layers(layers, model, path):
        for k, (var, array) in enumerate(zip(layer.weights, layers[i][2])):
            var.assign(array)
            order.append((var, starts[i] + k))
    return order
