"""Data parallel training on 2 simulated CPU devices matches 1 device.

The devices must exist before the backend starts, so the comparison runs in its own
process (tests/data_parallel_check.py) and reports its measurements as JSON.
"""

import json
import os
import subprocess
import sys

import keras
import pytest

from aegan.config import make_config
from runs import registry
from common import UserError, engine

HERE = os.path.dirname(os.path.abspath(__file__))
pytestmark = pytest.mark.xdist_group("test_data_parallel")  # one worker runs `measured` once


@pytest.fixture(scope="module")
def measured():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run([sys.executable, os.path.join(HERE, "data_parallel_check.py")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_devices_were_used(measured):
    assert len(measured["devices"]) == 2


@pytest.mark.slow
def test_first_update_on_two_devices_matches_one(measured):
    # Same state, same global batch, noise off: the same loss, and the same step up to rounding
    # (Adam's first step is about sign(gradient) * lr, so rounding can flip a few tiny elements).
    m = measured["first_update"]
    assert m["losses_apart"] < 1e-5 and m["weights_apart_relative"] < 2e-3, m


@pytest.mark.slow
def test_whole_round_on_two_devices_matches_one(measured):
    m = measured["whole_round"]
    assert m["finite"] and m["losses_apart"] < 1e-4 and m["weights_apart_relative"] < 2e-3, m


@pytest.mark.slow
def test_ogan_trains_on_two_devices(measured):
    m = measured["ogan"]
    assert m["finite"] and all(m["moved"].values()) and m["statistics_moved"], m
    assert m["losses"][0] != m["losses"][-1]


@pytest.mark.slow
def test_round_on_two_devices_compiles_once(measured):
    # The first round starts from NumPy, the next from the arrays the first returned: one program.
    assert measured["ogan"]["traced_after_first_round"] == 0


@pytest.mark.slow
def test_training_loop_on_two_devices_checkpoints_samples_and_resumes(measured):
    m = measured["ogan_run"]
    assert m["logged_steps"] == [1, 2, 3, 4], m
    assert m["checkpoints"][-1] == "ckpt-000000004.npz" and "samples_fixed_000000004.png" in m["grids"], m


@pytest.mark.slow
def test_batch_that_does_not_split_is_refused(measured):
    assert measured["batch_error"] == "batch size 3 does not split over 2 devices: make it a multiple of 2"


@pytest.mark.slow
def test_default_is_every_device_that_splits_the_batch(measured):
    assert measured["default_devices"] == {"batch 4": 2, "batch 3": 1}


def test_more_devices_than_the_machine_has_is_refused():
    model = registry.build(make_config("tiny"))
    count = len(engine.device_names())
    with pytest.raises(UserError, match=f"--devices {count + 1}: this machine has {count} device"):
        model.use_devices(count + 1)
