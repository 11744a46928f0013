import numpy as np
import pytest

from common import engine


def _matmul(a, b):
    return a @ b


def test_program_flops_counts_a_matmul_or_says_none():
    a = np.ones((8, 16), np.float32)
    b = np.ones((16, 4), np.float32)
    flops = engine.program_flops(_matmul, a, b)
    if engine.BACKEND == "jax":
        assert flops >= 2 * 8 * 16 * 4 * 0.9  # multiply-add = 2 FLOPs
    else:
        assert flops is None


@pytest.mark.skipif(engine.BACKEND != "jax", reason="XLA's cost analysis is read under JAX only")
def test_program_flops_is_none_where_xla_gives_no_count(monkeypatch):
    # JAX 0.11 on an H100 returns no cost analysis; the benchmark then prints its own count only.
    import jax

    monkeypatch.setattr(jax.stages.Lowered, "cost_analysis", lambda self: None)
    assert engine.program_flops(_matmul, np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)) is None


def test_the_engines_seed_draws_as_keras_seed_does():
    """engine.set_random_seed sets Python's, NumPy's and Keras' seeds as keras.utils.set_random_seed."""
    import random

    import keras

    def draws():
        return (random.random(), np.random.rand(), np.asarray(keras.random.normal((3,))),
                np.asarray(keras.initializers.RandomNormal()((3,))))

    keras.utils.set_random_seed(5)
    expected = draws()
    engine.set_random_seed(5)
    got = draws()
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="integer"):
        engine.set_random_seed("5")


@pytest.mark.skipif(engine.BACKEND != "jax", reason="TensorFlow is the backend itself")
def test_a_training_start_under_jax_never_imports_tensorflow(tmp_path):
    """Importing TensorFlow took 3-8 s of a start. A start's imports, seed, networks, state and
    logs, in a process of its own, leave it unimported."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = f"""
import sys
sys.path[:0] = [{root!r}, {os.path.join(root, "experiments")!r}]
import _setup, aegan_anime, ogan_celeba
from common import engine, loop, run_folder
from runs import registry, training
engine.set_random_seed(0)
model = registry.build(registry.get("aegan").make_config("tiny"))
model.initial_state()
model.state_template()
logs = run_folder.Logs({str(tmp_path)!r}, ["loss"], 0)
logs.write({{"step": 1, "loss": 1.0, "seconds": 0.1}})
logs.flush(sync=True)
print(sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow"))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-2000:]
