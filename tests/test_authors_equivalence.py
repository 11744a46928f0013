"""Our AEGAN and O-GAN updates compute what the authors' code computes: their recordings, replayed.

tests/fixtures/ holds two recordings of the authors' own code (see its README): one AEGAN
round at the paper's config, and three O-GAN steps for each of the authors' two CelebA
scripts, each in float32 and float64, with every initial weight and input regenerated from
seeds. tests/authors_replay.py runs our model on them, a process per recording, precision and
backend; these tests compare what it computes with what the authors' code recorded.

- float64 decides identity: the authors' float64 runs repeat bit for bit, so every loss and
  every summarised tensor (sum, L2 norm, 16 values; BatchNorm moving statistics included) must
  match to 1e-9 relative (1e-12 absolute where a figure is under 1e-3).
- float32 cannot: the authors' own float32 run departs from their float64 run by up to 4e-2
  (AEGAN) and 1e-1 (O-GAN's near-zero t1) by the last update, rounding amplified by the first,
  sign-like steps of Adam and RMSprop. So float32 is held to the first update of each kind,
  and after it to the size of their own float32 rounding: each figure of an update or step
  within 3 times the largest relative distance between their float32 and float64 figures of
  that update or step (plus 1e-4), and each quantile of the weights' distance within k times
  the same quantile of theirs (k = 2 at the median and the 90th percentile, 4 at the 99th and
  the largest).
"""

import functools
import json
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
AEGAN = os.path.join(HERE, "fixtures", "aegan_authors_round.json")
OGAN = os.path.join(HERE, "fixtures", "ogan_authors_steps.json")
with open(OGAN) as f:
    OGAN_VARIANTS = list(json.load(f)["variants"])
RELATIVE, ABSOLUTE = 1e-9, 1e-12
BACKEND = keras.backend.backend()
# The tests of one replay run in one xdist worker: its process runs once there (replay's cache).
AEGAN_FLOAT64 = pytest.mark.xdist_group("replay-aegan-float64")
OGAN_FLOAT64 = [pytest.param(v, marks=pytest.mark.xdist_group(f"replay-{v}-float64"), id=v) for v in OGAN_VARIANTS]


@functools.lru_cache(maxsize=None)
def replay(path, variant, dtype):
    """(ours, their recording in this precision, their recording in the other)."""
    out = os.path.join(tempfile.mkdtemp(prefix="replay-"), "ours.json")
    result = subprocess.run([sys.executable, os.path.join(HERE, "authors_replay.py"), path, variant, dtype, out],
                            capture_output=True, text=True, timeout=1800, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(out) as f:
        ours = json.load(f)
    with open(path) as f:
        fixture = json.load(f)
    runs = fixture if variant == "aegan" else fixture["variants"][variant]
    return ours, runs["float32"], runs["float64"]


def _worst(pairs):
    """(largest relative difference where |theirs| > ABSOLUTE / RELATIVE, largest absolute elsewhere, where)."""
    rel, ab, where = 0.0, 0.0, None
    for name, mine, theirs in pairs:
        for m, t in zip(np.atleast_1d(mine), np.atleast_1d(theirs), strict=True):
            if abs(t) > ABSOLUTE / RELATIVE:
                if abs(m - t) / abs(t) > rel:
                    rel, where = abs(m - t) / abs(t), name
            else:
                ab = max(ab, abs(m - t))
    return rel, ab, where


def _summaries(weights):
    """[(tensor key, 'sum' | 'l2' | 'values', values)] of a weights_after record."""
    return [(key, field, np.atleast_1d(s[field])) for key, s in sorted(weights.items()) for field in ("sum", "l2", "values")]


def _weights_pairs(ours, theirs):
    assert set(ours["weights_after"]) == set(theirs["weights_after"])
    return [(f"{key} {field}", m, t) for (key, field, m), (_, _, t) in
            zip(_summaries(ours["weights_after"]), _summaries(theirs["weights_after"]), strict=True)]


def _check_float64(pairs, what):
    rel, ab, where = _worst(pairs)
    print(f"\n[{BACKEND}] float64 {what}: largest relative difference {rel:.1e} ({where}), "
          f"largest absolute near zero {ab:.1e}")
    assert rel < RELATIVE and ab < ABSOLUTE, (rel, ab, where)


def _check_float32_weights(ours, theirs32, theirs64):
    ours_flat = np.concatenate([v for _, _, v in _summaries(ours["weights_after"])])
    flat32 = np.concatenate([v for _, _, v in _summaries(theirs32["weights_after"])])
    flat64 = np.concatenate([v for _, _, v in _summaries(theirs64["weights_after"])])
    mine, theirs = np.abs(ours_flat - flat32), np.abs(flat32 - flat64)
    lines = []
    for q, k in ((0.5, 2), (0.9, 2), (0.99, 4), (1.0, 4)):
        a, b = np.quantile(mine, q), np.quantile(theirs, q)
        lines.append(f"q{q}: ours {a:.1e}, theirs {b:.1e}")
        assert a <= k * b + 1e-7, lines[-1]
    print(f"\n[{BACKEND}] float32 weights, |ours - their float32| against |their float32 - their float64|: "
          + "; ".join(lines))


def _within_their_rounding(mine, theirs32, theirs64):
    """|ours - their float32| per figure of one update or step, relative, and the bound: 3 times
    the largest relative distance between their float32 and float64 among that update's or
    step's figures (rounding drift belongs to the state, not to one figure), plus 1e-4."""
    mine, t32, t64 = (np.atleast_1d(np.asarray(v, np.float64)) for v in (mine, theirs32, theirs64))
    return np.abs(mine - t32) / np.abs(t32), 3 * np.max(np.abs(t32 - t64) / np.abs(t64)) + 1e-4


# -- AEGAN: one round (4 Dx, 4 Dz, 4 G+E updates) at the paper's config --------------------


@pytest.mark.slow
@AEGAN_FLOAT64
def test_aegan_float64_every_update_loss_and_term_matches():
    ours, _, theirs = replay(AEGAN, "aegan", "float64")
    assert ours["dtypes"] == ["float64"], ours["dtypes"]
    assert len(ours["updates"]) == len(theirs["updates"]) == 12
    _check_float64([(f"update {i + 1} ({t['update']})", m, t["loss"])
                    for i, (m, t) in enumerate(zip(ours["updates"], theirs["updates"]))], "losses")


@pytest.mark.slow
@AEGAN_FLOAT64
def test_aegan_float64_every_summarised_weight_matches():
    ours, _, theirs = replay(AEGAN, "aegan", "float64")
    _check_float64(_weights_pairs(ours, theirs), f"weights ({len(theirs['weights_after'])} tensors)")


@pytest.mark.slow
def test_aegan_float32_round_within_float32_rounding():
    ours, theirs32, theirs64 = replay(AEGAN, "aegan", "float32")
    assert ours["dtypes"] == ["float32"], ours["dtypes"]
    rows = []
    for i, (m, t32, t64) in enumerate(zip(ours["updates"], theirs32["updates"], theirs64["updates"])):
        rel, bound = _within_their_rounding(m, t32["loss"], t64["loss"])
        rows.append(f"{i + 1}: {rel.max():.1e} (bound {bound:.1e})")
        if i in (0, 4):  # the first Dx and Dz updates: nothing amplified yet
            assert rel.max() < 1e-5, rows[-1]
        assert rel.max() <= bound, rows[-1]
    print(f"\n[{BACKEND}] float32 relative loss difference per update: " + ", ".join(rows))
    _check_float32_weights(ours, theirs32, theirs64)


# -- O-GAN: three steps of each of the authors' CelebA scripts ------------------------------


@pytest.mark.parametrize("variant", OGAN_VARIANTS)
def test_ogan_networks_have_the_authors_parameter_counts(variant):
    from ogan.config import make_config
    from ogan.models import OGAN as Model
    from authors_replay import OGAN_VARIANTS as CONFIGS

    with open(OGAN) as f:
        fixture = json.load(f)
    c = fixture["config"]
    model = Model(make_config("paper", resolution=c["resolution"], latent_dim=c["z_dim"], batch_size=c["batch"],
                              **CONFIGS[variant]))
    ours = {n: int(sum(np.prod(v.shape) for v in m.trainable_variables)) for n, m in model.nets.items()}
    assert ours == fixture["variants"][variant]["float64"]["params"]


@pytest.mark.slow
@pytest.mark.parametrize("variant", OGAN_FLOAT64)
def test_ogan_float64_every_step_loss_t1_and_rho_match(variant):
    ours, _, theirs = replay(OGAN, variant, "float64")
    assert ours["dtypes"] == ["float64"], ours["dtypes"]
    assert len(ours["steps"]) == len(theirs["steps"])
    _check_float64([(f"step {i} {k}", m[k], t[k]) for i, (m, t) in enumerate(zip(ours["steps"], theirs["steps"]))
                    for k in ("loss", "t_loss", "z_corr")], "loss, t1 and rho")


@pytest.mark.slow
@pytest.mark.parametrize("variant", OGAN_FLOAT64)
def test_ogan_float64_every_summarised_tensor_matches_moving_statistics_included(variant):
    ours, _, theirs = replay(OGAN, variant, "float64")
    assert any("moving_variance" in k for k in theirs["weights_after"])
    _check_float64(_weights_pairs(ours, theirs), f"tensors ({len(theirs['weights_after'])})")


@pytest.mark.slow
@pytest.mark.parametrize("variant", OGAN_VARIANTS)
def test_ogan_float32_steps_within_float32_rounding(variant):
    ours, theirs32, theirs64 = replay(OGAN, variant, "float32")
    assert ours["dtypes"] == ["float32"], ours["dtypes"]
    rows, names = [], ("loss", "t_loss", "z_corr")
    for i, (m, t32, t64) in enumerate(zip(ours["steps"], theirs32["steps"], theirs64["steps"])):
        rel, bound = _within_their_rounding(*([d[k] for k in names] for d in (m, t32, t64)))
        rows.append(f"step {i} " + ", ".join(f"{k} {r:.1e}" for k, r in zip(names, rel)) + f" (bound {bound:.1e})")
        if i == 0:
            assert rel.max() < 1e-4, rows[-1]
        assert rel.max() <= bound, rows[-1]
    print(f"\n[{BACKEND}] float32 relative difference: " + "; ".join(rows))
    _check_float32_weights(ours, theirs32, theirs64)
