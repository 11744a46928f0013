"""The authors' recorded AEGAN round replayed in float64 (networks, losses, optimizer, slots),
for test_authors_equivalence.py: a process of its own, since JAX's float64 switch is process-wide.

    python tests/float64_replay.py FIXTURE_DIR OUT.json

Writes our 12 update losses and, for every weight tensor the fixture summarises (keyed as
there: net/position/name), its sum, L2 norm and values at the fixture's positions.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from aegan.authors import FILES, load_into  # noqa: E402
from aegan.config import make_config  # noqa: E402
from aegan.models import build_model  # noqa: E402
from common import engine  # noqa: E402

# Which recorded draw plays which role in our round (the fixture's README).
IMAGE_DRAWS = ["00_data", "01_data", "03_data", "06_data", "08_data", "10_data", "12_data", "14_data"]
LATENT_DRAWS = ["02_noise", "04_noise", "05_noise", "07_noise", "09_noise", "11_noise", "13_noise", "15_noise"]


def main(fixture, out):
    keras.utils.set_random_seed(0)
    model = build_model(make_config("paper", input_noise=0.0, dropout_rate=0.0, precision="float64"))
    # TensorFlow: a graph on its own CPU kernels, as the authors' train_on_batch runs (XLA:CPU's
    # float64 convolutions took about 30 minutes for this round). JAX always compiles with XLA.
    model.xla_on_cpu = False
    order = {n: load_into(model.nets[n], os.path.join(fixture, f)) for n, f in FILES.items()}
    state = model.initial_state()
    dtypes = {str(np.asarray(a).dtype) for group in ("params", "optimizers") for a in keras.tree.flatten(state[group])}
    with np.load(os.path.join(fixture, "round_inputs.npz")) as inputs:
        images = np.stack([inputs[k] for k in IMAGE_DRAWS]).astype(np.float64)
        latents = np.stack([inputs[k] for k in LATENT_DRAWS]).astype(np.float64)
    state, losses = model.round(state, images, latents)
    state, losses = engine.to_numpy((state, losses))
    updates = [*losses["discriminator_image"][:, 0], *losses["discriminator_latent"][:, 0],
               *[list(row) for row in losses["generator_encoder"]]]
    with open(os.path.join(fixture, "round_float64.json")) as f:
        recorded = json.load(f)["weights_after"]
    weights = {}
    for net, pairs in order.items():
        index = {v.path: i for i, v in enumerate(model.nets[net].trainable_variables)}
        ours = {pos: state["params"][net][index[var.path]] for var, pos in pairs}
        for key, summary in recorded.items():
            if key.startswith(net + "/"):
                a = np.asarray(ours[int(key.split("/")[1])], np.float64)
                weights[key] = {"shape": list(a.shape), "sum": float(a.sum()), "l2": float(np.sqrt((a * a).sum())),
                                "values": [float(v) for v in a.ravel()[summary["positions"]]]}
    result = {"backend": keras.backend.backend(), "dtypes": sorted(dtypes), "loss_dtype": str(losses["generator_encoder"].dtype),
              "updates": [float(u) if np.ndim(u) == 0 else [float(v) for v in u] for u in updates], "weights_after": weights}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
