"""Atomic save and load of a whole training state: every weight, noise seed and optimizer slot.

A checkpoint is one .npz file: the state's arrays under their paths ("params/generator/003")
plus a JSON `meta` entry (step, config, backend). It is written atomically
(common/files.py), so a crash never leaves a half-written checkpoint under a real name.
"""

import glob
import json
import os
import re
import sys

import numpy as np

from common import UserError
from common.files import write_atomic

PATTERN = "ckpt-{:09d}.npz"
# Names that older checkpoints used, and today's: O-GAN's z size and its E+G optimizer were
# `z_dim` and "encoder_generator" until both models used AEGAN's names.
RENAMED_CONFIG = {"z_dim": "latent_dim"}
RENAMED_OPTIMIZERS = {"encoder_generator": "generator_encoder"}


class CheckpointError(UserError, ValueError):
    """A checkpoint that cannot be read or does not fit the model; the message says why."""


def flatten(tree, prefix=""):
    """Nested dicts/lists of arrays -> {"a/b/003": array}."""
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}/"))
        return out
    if isinstance(tree, (list, tuple)):
        out = {}
        for i, v in enumerate(tree):
            out.update(flatten(v, f"{prefix}{i:03d}/"))
        return out
    return {prefix[:-1]: np.asarray(tree)}


def unflatten(flat, template, prefix=""):
    """The inverse of flatten, shaped like `template`, checking every array's shape."""
    if isinstance(template, dict):
        return {k: unflatten(flat, v, f"{prefix}{k}/") for k, v in template.items()}
    if isinstance(template, (list, tuple)):
        return [unflatten(flat, v, f"{prefix}{i:03d}/") for i, v in enumerate(template)]
    key = prefix[:-1]
    if key not in flat:
        raise CheckpointError(f"checkpoint has no array {key!r}: it was made by a different model")
    a = flat[key]
    if a.shape != np.shape(template):
        raise CheckpointError(f"checkpoint array {key!r} has shape {a.shape}, the model needs "
                              f"{np.shape(template)}: different model, resolution or latent size?")
    return a.astype(np.asarray(template).dtype, copy=False)


def weights_of(state, networks):
    """The part of a state that these networks sample and encode with: their weights, BatchNorm
    statistics and noise seeds, and their weight averages; no optimizer slots."""
    part = {key: {n: state[key][n] for n in networks} for key in ("params", "buffers")}
    if "ema" in state:
        part["ema"] = {decay: {n: average[n] for n in networks} for decay, average in state["ema"].items()}
    return part


def restore_weights(flat, template, networks):
    """A whole state, like `template`, with these networks' part (weights_of) read from `flat`;
    the rest (other networks, optimizer slots) keeps the template's fresh values."""
    part = unflatten(flat, weights_of(template, networks))
    state = {**template, "params": {**template["params"], **part["params"]},
             "buffers": {**template["buffers"], **part["buffers"]}}
    if "ema" in part:
        state["ema"] = {decay: {**template["ema"][decay], **average} for decay, average in part["ema"].items()}
    return state


def save(directory, step, state, meta, keep=3):
    """Write ckpt-<step>.npz atomically; keep the newest `keep` checkpoints."""
    os.makedirs(directory, exist_ok=True)
    arrays = flatten(state)
    arrays["meta"] = np.array(json.dumps({**meta, "step": step}))
    path = os.path.join(directory, PATTERN.format(step))
    write_atomic(path, lambda f: np.savez(f, **arrays))
    for old in list_checkpoints(directory)[:-keep]:
        os.remove(old)
    return path


def list_checkpoints(directory):
    return sorted(p for p in glob.glob(os.path.join(directory, "ckpt-*.npz"))
                  if re.fullmatch(r"ckpt-\d{9}\.npz", os.path.basename(p)))


def read(path):
    """(meta, flat arrays) of one checkpoint file."""
    try:
        with np.load(path) as f:
            flat = {k: f[k] for k in f.files}
        meta = json.loads(str(flat.pop("meta")))
    except Exception as e:  # any damage: truncated zip, bad JSON, missing entry
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from None
    return upgraded(meta, flat)


def upgraded(meta, flat):
    """(meta, flat) with the names older versions wrote (RENAMED_CONFIG, RENAMED_OPTIMIZERS)
    replaced by today's; the values are unchanged."""
    config = {RENAMED_CONFIG.get(k, k): v for k, v in meta.get("config", {}).items()}

    def path(key):
        parts = key.split("/")
        if len(parts) > 1 and parts[0] in ("optimizers", "loss_scale"):
            parts[1] = RENAMED_OPTIMIZERS.get(parts[1], parts[1])
        return "/".join(parts)

    return {**meta, "config": config} if "config" in meta else meta, {path(k): v for k, v in flat.items()}


def load_latest(directory):
    """(path, meta, flat) of the newest readable checkpoint, or None if there is none."""
    for path in reversed(list_checkpoints(directory)):
        try:
            meta, flat = read(path)
        except CheckpointError as e:
            print(f"warning: {e}; trying an older one", file=sys.stderr)
            continue
        return path, meta, flat
    return None
