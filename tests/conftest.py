import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="run the slow tier too (tests marked slow: replays, soaks, long training)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the slow tier, left out of a plain `pytest` run; "
                                       "`--slow`, `-m` or `-k` selects it")


def pytest_collection_modifyitems(config, items):
    """A plain run leaves the slow tier out; `--slow`, or any `-m` or `-k` selection, keeps it
    (so `pytest -k authors` runs the replays, and `pytest -m slow` the slow tier alone)."""
    if config.getoption("--slow") or config.getoption("-m") or config.getoption("-k"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
