"""Faults: kill -9 at random moments, a full disk, leftovers of killed writes, damaged logs."""

import errno
import os
import sys

import numpy as np
import pytest
from conftest import ROOT

from common import checkpoint, data, files, loop

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


@pytest.mark.slow
@pytest.mark.backend_agnostic
def test_kill_9_at_random_moments_then_resume_loses_nothing(tmp_path):
    import kill_resume

    r = kill_resume.soak(kills=2, steps=32, work=str(tmp_path), verbose=False)
    assert r["kills"] == 2 and r["resumed"] == 2, r["details"]
    assert r["corrupt"] == 0, r["details"]
    assert r["equal"] and r["log_ok"]


def _gan(tmp_path, steps=8, **kw):
    import keras

    from aegan.config import make_config
    from runs import registry
    from collapse import mixtures

    # Dense networks on 2-D points: the same loop, compiled in seconds.
    keras.utils.set_random_seed(0)
    model = registry.build(make_config("tiny", model="gan", architecture="mlp", hidden_units=8, mirror=False))
    sampler = data.RoundSampler(mixtures.sample("ring8", 40, 0), 4, model.images_per_round,
                                model.latents_per_round, 8, seed=0, mirror=False)
    return loop.train(model, sampler, mixtures.sample("ring8", 8, 1), str(tmp_path / "run"),
                      {"config": {}, "seed": 0}, steps, checkpoint_every=4, sample_every=1000, verbose=0, **kw)


def test_a_full_disk_is_one_clear_error_and_the_last_checkpoint_survives(tmp_path, monkeypatch):
    _gan(tmp_path, steps=4)
    before = checkpoint.list_checkpoints(str(tmp_path / "run" / "checkpoints"))
    real_savez = np.savez

    def full_disk(f, **arrays):
        real_savez(f, **{k: arrays[k] for k in list(arrays)[:1]})  # part of it, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", f.name)

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(loop.RunError, match="cannot write to the run folder: No space left on device .*"
                                            "ckpt-000000004.npz is intact.*--resume"):
        _gan(tmp_path, steps=12, resume=True)
    monkeypatch.undo()
    after = checkpoint.list_checkpoints(str(tmp_path / "run" / "checkpoints"))
    assert after == before and checkpoint.read(after[-1])[0]["step"] == 4
    assert not [f for f in os.listdir(tmp_path / "run" / "checkpoints") if files.TEMPORARY in f]
    _, step = _gan(tmp_path, steps=12, resume=True)  # space again: the run goes on
    assert step == 12


def test_leftovers_of_killed_writes_are_removed_and_never_read(tmp_path):
    _gan(tmp_path, steps=4)
    ckpts = tmp_path / "run" / "checkpoints"
    dead = 2 ** 22 + 12345  # beyond any pid this machine has handed out
    (ckpts / f"ckpt-000000999.npz{files.TEMPORARY}{dead}").write_bytes(b"PK half a checkpoint")
    (tmp_path / "run" / f"losses.csv{files.TEMPORARY}{dead}").write_text("step,")
    assert checkpoint.load_latest(str(ckpts))[1]["step"] == 4
    _gan(tmp_path, steps=8, resume=True)
    leftovers = [f for _, _, fs in os.walk(tmp_path / "run") for f in fs if files.TEMPORARY in f]
    assert leftovers == []


def test_a_half_written_log_line_is_dropped_on_resume(tmp_path):
    _gan(tmp_path, steps=8)  # checkpoints at 4 and 8
    csv = tmp_path / "run" / "losses.csv"
    jsonl = tmp_path / "run" / "losses.jsonl"
    with open(csv, "a") as f:
        f.write("12,0.69")  # a kill in the middle of a row
    with open(jsonl, "a") as f:
        f.write('{"step": 12, "discrimin')
    _gan(tmp_path, steps=12, resume=True)
    rows = csv.read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [4, 8, 12]
    assert all(len(r.split(",")) == len(rows[0].split(",")) for r in rows)
    assert [line[:12] for line in jsonl.read_text().splitlines()] == ['{"step": 4, ', '{"step": 8, ', '{"step": 12,']


def test_an_unwritable_cache_only_warns(tmp_path, capsys):
    (tmp_path / "imgs").mkdir()
    for i in range(3):
        from PIL import Image

        Image.fromarray(np.full((16, 16, 3), i * 50, np.uint8)).save(tmp_path / "imgs" / f"{i}.png")
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    images = data.load_images(str(tmp_path / "imgs"), 16, cache_dir=str(tmp_path / "cache"), verbose=False)
    assert len(images) == 3 and "cannot write the image cache" in capsys.readouterr().err
