"""The test workers keep a group's tests together (pytest.ini's --dist loadgroup): tests that
share a compiled model compile it once, in one worker, only while this holds."""

import os

import pytest

together = pytest.mark.xdist_group("test_workers")


def _same_worker_as_the_others(tmp_path_factory):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()  # a worker's is one folder of the session's
    seen = (base.parent if worker else base) / "test_workers-seen"
    worker = worker or "main"
    with open(seen, "a") as f:
        f.write(worker + "\n")
    assert set(seen.read_text().split()) == {worker}, "the group's tests ran in different workers"


@together
def test_a_group_runs_in_one_worker(tmp_path_factory):
    _same_worker_as_the_others(tmp_path_factory)


@together
def test_a_group_runs_in_one_worker_too(tmp_path_factory):
    _same_worker_as_the_others(tmp_path_factory)
