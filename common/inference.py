"""Sampling, encoding, reconstruction and interpolation with a model's compiled functions.

Used by the training loop's grids and, without training, by `experiments/sample.py`,
`figures.py` and `mode_collapse.py`.
"""

import numpy as np
from tqdm.auto import tqdm

from common import images
from common.data import to_float, to_uint8

BATCH = 100  # images per compiled call: one compilation serves any count
SHOWN_FROM = 20  # calls from which a progress bar is shown


class Inference:
    """Compiled sampling and encoding in fixed-size chunks (one compilation each)."""

    def __init__(self, model):
        self.model = model
        self._generate = model.compiled("generate", model.generate)
        self.can_encode = "encoder" in model.network_names
        self._encode = model.compiled("encode", model.encode) if self.can_encode else None

    def _chunked(self, fn, state, x, what):
        out = []
        starts = range(0, len(x), BATCH)
        for i in tqdm(starts, desc=what, unit="batch", disable=len(starts) < SHOWN_FROM, leave=False):
            chunk = x[i:i + BATCH]
            pad = BATCH - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            out.append(np.asarray(fn(state, chunk))[:BATCH - pad])
        return np.concatenate(out)

    def generate(self, state, z):
        return self._chunked(self._generate, state, np.asarray(z, np.float32), "generating")

    def encode(self, state, x):
        return self._chunked(self._encode, state, np.asarray(x, np.float32), "encoding")

    def reconstruct(self, state, real):
        """uint8 images -> (uint8 reconstructions G(E(x)), codes E(x))."""
        codes = self.encode(state, to_float(real))
        return to_uint8(self.generate(state, codes)), codes

    def interpolate(self, state, starts, ends, points):
        """uint8 images a and b -> uint8 (N, points, H, W, 3): the codes from E(a) to E(b),
        both ends included, decoded."""
        codes = images.interpolate(self.encode(state, to_float(starts)), self.encode(state, to_float(ends)), points)
        decoded = to_uint8(self.generate(state, codes.reshape(-1, codes.shape[-1])))
        return decoded.reshape(points, len(starts), *decoded.shape[1:]).transpose(1, 0, 2, 3, 4)
