"""Weights written by the papers' authors' Keras 2 code, matched to our layers.

Their weights come as Keras 2 HDF5 files (`read_h5`) or as maps from their keys
`NET/K/LAYER/WEIGHT` to arrays (`layers_of_keys`; K is a tensor's index in their
`net.weights`). Either way they become a list of (their layer name, layer kind, arrays), in
their model's layer order, which `match_layers` pairs with our layers by kind and weight
shapes, first fit, or `pair_by_creation` by the order the layers were created. Their layer
names carry creation order (`conv2d_3`), ours carry roles (`block3_conv`).
"""

import json
import os
import re

import h5py
import numpy as np

from common import UserError

# Keras 2 layer name (without its counter) -> the layer's class, where a key names no class.
KINDS = {"dense": "Dense", "conv2d": "Conv2D", "conv2d_transpose": "Conv2DTranspose",
         "layer_normalization": "LayerNormalization", "batch_normalization": "BatchNormalization"}


class AuthorsFileError(UserError, ValueError):
    """Authors' weights that do not fit our architecture; the message names the layer."""


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


def name_and_counter(layer_name):
    """'conv2d_transpose_2' -> ('conv2d_transpose', 2); 'dense' -> ('dense', 0)."""
    base, counter = re.fullmatch(r"(.*?)(?:_(\d+))?", layer_name).groups()
    return base, int(counter or 0)


def layers_of_keys(tensors):
    """{'NET/K/LAYER/WEIGHT': array} of one network -> [(layer name, class name, [arrays])]
    in the order of K (their model's layer order)."""
    layers = {}
    for key in sorted(tensors, key=lambda k: int(k.split("/")[1])):
        layer = key.split("/")[2]
        layers.setdefault(layer, []).append(tensors[key])
    return [(name, KINDS[name_and_counter(name)[0]], arrays) for name, arrays in layers.items()]


def match_layers(author_layers, model, source=""):
    """[(their layer index, our layer)] matching every weighted layer of both, or an error.

    Each of their layers, in order, takes the first of our model's layers that hold weights
    (in its layer order) not yet taken with the same kind and weight shapes.
    """
    ours = [l for l in model.layers if l.weights]
    used = set()
    pairs = []
    for i, (name, cls, arrays) in enumerate(author_layers):
        shapes = [a.shape for a in arrays]
        match = next((j for j, l in enumerate(ours) if j not in used and type(l).__name__ == cls
                      and [tuple(w.shape) for w in l.weights] == shapes), None)
        if match is None:
            raise AuthorsFileError(f"{source or model.name}: layer {name!r} ({cls}, weights "
                                   f"{', '.join(str(s) for s in shapes)}) fits no layer of our {model.name}")
        used.add(match)
        pairs.append((i, ours[match]))
    left = [l.name for j, l in enumerate(ours) if j not in used]
    if left:
        raise AuthorsFileError(f"{source or model.name}: our {model.name} layer(s) {', '.join(left)} "
                               f"got no weights from the file")
    return pairs


def pair_by_creation(author_layers, ours, source=""):
    """[(their layer index, our layer)]: their layers of each kind in the order their names
    count (the order their code created them), with ours of that kind in the order of `ours`
    (our layers listed in that same creation order). Where shapes alone cannot tell layers
    apart (several Dense(128, 128) of different roles), the order decides."""
    by_kind = {}
    for layer in ours:
        by_kind.setdefault(type(layer).__name__, []).append(layer)
    taken, pairs = {}, []
    for i in sorted(range(len(author_layers)), key=lambda i: name_and_counter(author_layers[i][0])[1]):
        name, cls, arrays = author_layers[i]
        k = taken.get(cls, 0)
        candidates = by_kind.get(cls, [])
        if k >= len(candidates) or [tuple(w.shape) for w in candidates[k].weights] != [a.shape for a in arrays]:
            theirs = ", ".join(str(a.shape) for a in arrays)
            raise AuthorsFileError(f"{source}: layer {name!r} ({cls}, weights {theirs}) does not fit "
                                   + (f"our {candidates[k].name}" if k < len(candidates) else f"any more of our {cls} layers"))
        taken[cls] = k + 1
        pairs.append((i, candidates[k]))
    left = [l.name for kind, layers in by_kind.items() for l in layers[taken.get(kind, 0):]]
    if left:
        raise AuthorsFileError(f"{source}: our layer(s) {', '.join(left)} got no weights")
    return pairs


def assign(author_layers, pairs):
    """Set our layers' weights from theirs, as paired; returns their weights' order as
    [(our variable, position in their net.weights)] for comparing later weights."""
    starts, position = [], 0
    for _, _, arrays in author_layers:
        starts.append(position)
        position += len(arrays)
    order = []
    for i, layer in pairs:
        for k, (var, array) in enumerate(zip(layer.weights, author_layers[i][2])):
            var.assign(array)
            order.append((var, starts[i] + k))
    return order
