import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _share_compiled_programs():
    """One persistent compilation cache for the whole test session, its subprocesses and its
    xdist workers (which inherit the environment): the tests build many models of the same
    tiny configurations, and a program XLA compiled once is then loaded, not compiled again.
    Set before JAX or TensorFlow is imported; a cache a developer names is kept instead."""
    import atexit
    import shutil
    import tempfile

    if "AEGAN_TEST_PROGRAM_CACHE" not in os.environ:
        os.environ["AEGAN_TEST_PROGRAM_CACHE"] = tempfile.mkdtemp(prefix="aegan-test-programs-")
        atexit.register(shutil.rmtree, os.environ["AEGAN_TEST_PROGRAM_CACHE"], ignore_errors=True)
    cache = os.environ["AEGAN_TEST_PROGRAM_CACHE"]
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(cache, "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    if "tf_xla_persistent_cache_directory" not in os.environ.get("TF_XLA_FLAGS", ""):
        os.environ["TF_XLA_FLAGS"] = (os.environ.get("TF_XLA_FLAGS", "") +
                                      f" --tf_xla_persistent_cache_directory={os.path.join(cache, 'tf')}").strip()


_share_compiled_programs()


def _compile_quickly():
    """The tests' programs run a few steps each: XLA compiles them with LLVM at optimisation
    level 1 instead of 2, for the session, its subprocesses and its workers. On a 2-core Xeon
    under JAX, the tiny AEGAN's networks then build in 6.6 s instead of 17 and its first round
    compiles in 11 s instead of 21; a round runs as fast (0.08 s). (Level 0 compiles a little
    faster still but runs some programs 10x slower.) XLA's own program passes are the same, and
    the slow tier's float64 replays of the authors' code still match within their tolerances
    with it. TensorFlow's XLA compile times do not change with it. A developer's own
    --xla_backend_optimization_level is kept."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_backend_optimization_level=1").strip()


_compile_quickly()


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="run the slow tier too (tests marked slow: replays, soaks, long training)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: the slow tier, left out of a plain `pytest` run; "
                                       "`--slow`, `-m` or `-k` selects it")
    config.addinivalue_line("markers", "backend_agnostic: a slow test of code that is the same under every "
                                       "backend (the loop, checkpoints, scripts); CI runs it under "
                                       "TensorFlow only")


def pytest_collection_modifyitems(config, items):
    """A plain run leaves the slow tier out; `--slow`, or any `-m` or `-k` selection, keeps it
    (so `pytest -k authors` runs the replays, and `pytest -m slow` the slow tier alone)."""
    if config.getoption("--slow") or config.getoption("-m") or config.getoption("-k"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def run_script(name, *args):
    """A script of experiments/ run in this process, as its command line would run it (the same
    main and argument parsing, without starting Python, TensorFlow or JAX again): what it printed
    to stdout. A user error raises common.UserError; tests of the exit status and the one-line
    message run the script as a process instead (tests/test_cli.py)."""
    import contextlib
    import importlib
    import io

    experiments = os.path.join(ROOT, "experiments")
    if experiments not in sys.path:
        sys.path.insert(0, experiments)
    script = importlib.import_module(name.removesuffix(".py"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        script.main([str(a) for a in args])
    return out.getvalue()
