"""Our AEGAN round computes what the authors' code computes: a recorded round, replayed.

The fixture (../shared/fixtures/aegan-authors-round, see its README) holds the authors'
four networks before one round, every input the round drew, the 12 update losses and every
weight after it. We import the networks with our importer, set the noise layers to 0 as the
recording did, and run one round through `model.round`, the updates real training runs (test_training checks
that the fused round of long runs gives the same).
"""

import json
import os

import keras
import numpy as np
import pytest
from conftest import SHARED
from float64_replay import IMAGE_DRAWS, LATENT_DRAWS  # which recorded draw plays which role

from aegan.authors import FILES, load_into
from aegan.config import make_config
from aegan.models import build_model
from common import engine

FIXTURE = os.path.join(SHARED, "fixtures", "aegan-authors-round")
pytestmark = pytest.mark.skipif(not os.path.isdir(FIXTURE),
                                reason=f"the authors' recorded round is not here ({FIXTURE})")


@pytest.fixture(scope="module")
def replay():
    keras.utils.set_random_seed(0)
    model = build_model(make_config("paper", input_noise=0.0, dropout_rate=0.0))
    order = {n: load_into(model.nets[n], os.path.join(FIXTURE, f)) for n, f in FILES.items()}
    inputs = np.load(os.path.join(FIXTURE, "round_inputs.npz"))
    state, losses = model.round(model.initial_state(),
                                np.stack([inputs[k] for k in IMAGE_DRAWS]),
                                np.stack([inputs[k] for k in LATENT_DRAWS]))
    with open(os.path.join(FIXTURE, "round_losses.json")) as f:
        recorded = json.load(f)["updates"]
    return model, order, engine.to_numpy(state), engine.to_numpy(losses), recorded


# Adam's first steps move a weight by about lr whatever its gradient's size, so a weight
# whose gradient is nearly cancelled (LayerNorm makes many) moves by +-lr on rounding noise,
# and the networks an update trains amplify that in the next update. Measured: our own TF
# and JAX rounds differ from each other by as much as either differs from the recording
# (G: 99.9th percentile 6e-4). So the tolerances tighten where nothing has been amplified
# yet, and TF (oneDNN kernels, as the authors' TF) is held tighter than JAX (XLA kernels).
ON_TF = keras.backend.backend() == "tensorflow"


def _relative(replay):
    _, _, _, losses, recorded = replay
    ours = [*losses["discriminator_image"][:, 0], *losses["discriminator_latent"][:, 0],
            *losses["generator_encoder"]]
    return [(i + 1, r["update"], np.abs(np.atleast_1d(m) - np.atleast_1d(r["loss"]))
             / np.abs(np.atleast_1d(r["loss"])), np.atleast_1d(m), r["loss"])
            for i, (m, r) in enumerate(zip(ours, recorded))]


def test_discriminator_updates_match(replay):
    for n, kind, rel, mine, theirs in _relative(replay)[:8]:
        assert rel.max() < (1e-5 if ON_TF else 1e-3), f"update {n} ({kind}): {mine} vs {theirs}"


def test_first_generator_encoder_updates_match_term_by_term(replay):
    for n, kind, rel, mine, theirs in _relative(replay)[8:10]:
        assert rel.max() < (1e-4 if ON_TF else 2e-3), f"update {n} ({kind}): {mine} vs {theirs}"


def test_every_update_total_matches(replay):
    rows = _relative(replay)
    for n, kind, rel, mine, theirs in rows:
        assert rel[0] < 5e-3, f"update {n} ({kind}): {mine} vs {theirs}"
    print(f"\n[{keras.backend.backend()}] relative loss difference per update (total; worst term): "
          + ", ".join(f"{n}: {r[0]:.1e}; {r.max():.1e}" for n, _, r, _, _ in rows))


def test_weights_after_round_match(replay):
    model, order, state, _, _ = replay
    after = np.load(os.path.join(FIXTURE, "weights_after_round.npz"))
    by_position = {n: {int(k.split("/")[1]): after[k] for k in after.files if k.startswith(n + "/")}
                   for n in FILES}
    lr = {"generator": 2e-4, "encoder": 2e-4, "discriminator_image": 5e-4, "discriminator_latent": 5e-4}
    quantile_bound = {"generator": 1e-3, "encoder": 1e-3,
                      "discriminator_image": 1e-5 if ON_TF else 2e-4, "discriminator_latent": 1e-5}
    lines = []
    for net, pairs in order.items():
        index = {v.path: i for i, v in enumerate(model.nets[net].trainable_variables)}
        assert len(pairs) == len(by_position[net])
        diffs = np.concatenate([np.abs(state["params"][net][index[var.path]] - by_position[net][pos]).ravel()
                                for var, pos in pairs])
        q999, largest = np.quantile(diffs, 0.999), diffs.max()
        lines.append(f"{net}: max {largest:.2e}, 99.9th percentile {q999:.2e}")
        assert q999 < quantile_bound[net], lines[-1]
        assert largest < 2 * lr[net] * 4, lines[-1]  # each side moves a weight ~lr per update
    print(f"\n[{keras.backend.backend()}] absolute weight difference after the round:\n  " + "\n  ".join(lines))


# -- float64: identity, not just closeness --------------------------------------------------
# The authors' own float32 and float64 rounds differ by up to 3 % in updates 11 and 12, so the
# float32 replay above cannot decide identity past the first updates; in float64 rounding is
# ~1e-16 and two runs of their code agree to 4e-15. Our round, run in float64 throughout
# (networks, losses, Adam and its slots) from the same files, must match their float64 round.
RELATIVE, ABSOLUTE = 1e-9, 1e-12


@pytest.fixture(scope="module")
def float64_replay(tmp_path_factory):
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("float64") / "ours.json"
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "float64_replay.py")
    result = subprocess.run([sys.executable, script, FIXTURE, str(out)], capture_output=True, text=True,
                            timeout=1800, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as f:
        ours = json.load(f)
    with open(os.path.join(FIXTURE, "round_float64.json")) as f:
        theirs = json.load(f)
    return ours, theirs


def _worst(pairs):
    """(largest relative difference where |theirs| > ABSOLUTE / RELATIVE, largest absolute elsewhere, where)."""
    rel, ab, where = 0.0, 0.0, None
    for name, mine, theirs in pairs:
        for m, t in zip(np.atleast_1d(mine), np.atleast_1d(theirs)):
            if abs(t) > ABSOLUTE / RELATIVE:
                if abs(m - t) / abs(t) > rel:
                    rel, where = abs(m - t) / abs(t), name
            else:
                ab = max(ab, abs(m - t))
    return rel, ab, where


def test_float64_round_computes_in_float64(float64_replay):
    ours, _ = float64_replay
    assert ours["dtypes"] == ["float64"] and ours["loss_dtype"] == "float64", ours["dtypes"]


def test_float64_every_update_loss_and_term_matches(float64_replay):
    ours, theirs = float64_replay
    pairs = [(f"update {i + 1} ({t['update']})", m, t["loss"])
             for i, (m, t) in enumerate(zip(ours["updates"], theirs["updates"]))]
    assert len(pairs) == 12
    rel, ab, where = _worst(pairs)
    print(f"\n[{keras.backend.backend()}] float64 losses: largest relative difference {rel:.1e} ({where}), "
          f"largest absolute near zero {ab:.1e}")
    assert rel < RELATIVE and ab < ABSOLUTE, (rel, ab, where)


def test_float64_every_summarised_weight_matches(float64_replay):
    ours, theirs = float64_replay
    recorded = theirs["weights_after"]
    assert set(ours["weights_after"]) == set(recorded)
    pairs = []
    for key, t in recorded.items():
        m = ours["weights_after"][key]
        assert m["shape"] == t["shape"], key
        pairs += [(f"{key} sum", m["sum"], t["sum"]), (f"{key} l2", m["l2"], t["l2"]),
                  (f"{key} values", m["values"], t["values"])]
    rel, ab, where = _worst(pairs)
    print(f"\n[{keras.backend.backend()}] float64 weights ({len(recorded)} tensors): largest relative difference "
          f"{rel:.1e} ({where}), largest absolute near zero {ab:.1e}")
    assert rel < RELATIVE and ab < ABSOLUTE, (rel, ab, where)
