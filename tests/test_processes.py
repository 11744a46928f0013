"""Training over several processes, as over several machines: two local processes
with one CPU device each, joined by KERAS_DISTRIBUTION_* and Gloo collectives, compute what
one process computes on two devices, and only the first writes the run folder."""

import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ROOT

from common import UserError, engine, images

SCRIPT = os.path.join(ROOT, "experiments", "ogan_celeba.py")
RUN = ["--preset", "tiny", "--checkpoint-every", "2", "--sample-every", "2"]
pytestmark = pytest.mark.xdist_group("test_processes")  # one worker launches `runs` once
jax_only = pytest.mark.skipif(keras.backend.backend() != "jax",
                              reason="training over several processes is wired for JAX only")


def _image_folder(path, seed):
    path.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(48):
        images.save_png(str(path / f"{i:02d}.png"), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    return str(path)


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _launch(args_per_process):
    """Runs the script once per entry of args_per_process, joined as one run; [(status, output)]."""
    port, count = _free_port(), len(args_per_process)
    procs = []
    try:
        for i, args in enumerate(args_per_process):
            env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_CPU_COLLECTIVES_IMPLEMENTATION": "gloo",
                   "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"localhost:{port}",
                   "KERAS_DISTRIBUTION_NUM_PROCESSES": str(count), "KERAS_DISTRIBUTION_PROCESS_ID": str(i)}
            env.pop("XLA_FLAGS", None)  # one device per process
            procs.append(subprocess.Popen([sys.executable, SCRIPT, *args], env=env, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        return [(p.returncode, out) for p, (out, _) in zip(procs, (p.communicate(timeout=300) for p in procs))]
    finally:
        for p in procs:
            p.kill()


def _losses(run):
    with open(os.path.join(run, "losses.csv")) as f:
        header, *rows = [line.strip().split(",") for line in f]
    keep = [i for i, name in enumerate(header) if name != "seconds"]
    return np.array([[float(row[i]) for i in keep] for row in rows])


def _files(run):
    """(every file the run wrote but TensorBoard's, how many TensorBoard event files: one a launch)."""
    found, events = [], 0
    for root, _, names in os.walk(run):
        if os.path.relpath(root, run).startswith("tensorboard"):
            events += len(names)
        else:
            found += [os.path.join(os.path.relpath(root, run), n) for n in names]
    return sorted(found), events


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("processes")
    data = _image_folder(tmp / "data", 0)
    joined, alone = str(tmp / "joined"), str(tmp / "alone")
    common = [*RUN, "--data", data, "--out", joined]
    first = _launch([[*common, "--steps", "4"]] * 2)
    resumed = _launch([[*common, "--steps", "6", "--resume"]] * 2)
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    one = subprocess.run([sys.executable, SCRIPT, *RUN, "--data", data, "--out", alone, "--steps", "6"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-3000:]
    return {"first": first, "resumed": resumed, "joined": joined, "alone": alone, "tmp": tmp, "data": data}


@pytest.mark.slow
@jax_only
def test_two_processes_train_and_resume_as_one_process_on_two_devices(runs):
    for status, out in runs["first"] + runs["resumed"]:
        assert status == 0, out[-3000:]
    assert "2 devices in 2 processes" in runs["first"][1][1]
    assert "resuming from" in runs["resumed"][1][1] and "at step 4" in runs["resumed"][1][1]
    joined, alone = _losses(runs["joined"]), _losses(runs["alone"])
    assert joined[:, 0].tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(joined, alone, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@jax_only
def test_only_the_first_process_writes_the_run_folder(runs):
    (joined, launches), (alone, _) = _files(runs["joined"]), _files(runs["alone"])
    assert joined == alone and "checkpoints/ckpt-000000006.npz" in joined
    assert launches == 2  # the first process's, once for the first 4 steps and once resumed


@pytest.mark.slow
@jax_only
def test_processes_with_different_data_are_refused(runs):
    other = _image_folder(runs["tmp"] / "other", 1)
    out = str(runs["tmp"] / "refused")
    results = _launch([[*RUN, "--data", runs["data"], "--out", out], [*RUN, "--data", other, "--out", out]])
    for status, output in results:
        assert status == 2, output[-3000:]
        assert "error: the processes loaded different training images" in output
        assert "Traceback" not in output
    assert not os.path.exists(os.path.join(out, "checkpoints"))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the refusal under TensorFlow")
def test_tensorflow_refuses_several_processes(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "KERAS_DISTRIBUTION_JOB_ADDRESSES": "localhost:1",
           "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "0"}
    done = subprocess.run([sys.executable, SCRIPT, *RUN, "--out", str(tmp_path / "run")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "error: training over several processes" in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_a_launch_without_the_coordinator_is_refused(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    monkeypatch.delenv("KERAS_DISTRIBUTION_JOB_ADDRESSES", raising=False)
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "0")
    with pytest.raises(UserError, match="also needs KERAS_DISTRIBUTION_JOB_ADDRESSES set"):
        engine.join_launched_processes()
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "two")
    with pytest.raises(UserError, match="must be a whole number"):
        engine.join_launched_processes()
