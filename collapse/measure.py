"""A trained run measured: its samples drawn and read by the dataset's yardstick, its
reconstructions where it has an encoder, and whether it collapsed."""

import json
import os

from collapse import rules
from collapse.protocols import SAMPLES


def evaluate_run(model, state, run_dir, benchmark, seed, name="samples.npy"):
    """The figures of a run's samples (the first SAMPLES saved as `name` in run_dir, with what
    the yardstick keeps beside them), and of its held-out reconstructions where it has an encoder."""
    import numpy as np

    from common import metrics
    from common.inference import Inference

    inference, yardstick = Inference(model), benchmark.yardstick
    samples = yardstick.draw(inference, state, model.latent_dim, seed)
    np.save(os.path.join(run_dir, name), samples[:SAMPLES])
    row, kept = yardstick.read(samples)
    for kind, values in kept.items():
        np.save(os.path.join(run_dir, name.replace("samples", kind)), values)
    if yardstick.reconstructs and inference.can_encode:
        test = benchmark.test[:SAMPLES]
        reconstructions, _ = inference.reconstruct(state, test)
        row.update(metrics.reconstruction_metrics(test, reconstructions))
    return row


def run_row(name, seed, step, model, state, run_dir, benchmark, samples="samples.npy"):
    """A run's figures at one step, with where it logs rho (O-GAN) the logged rho of the 500 steps
    before, and whether it collapsed."""
    from common import run_folder

    row = {"model": name, "seed": seed, "step": step,
           **evaluate_run(model, state, run_dir, benchmark, seed, name=samples)}
    rho = run_folder.logged_mean(run_dir, "rho", end_step=step)
    if rho is not None:  # rho(z, E(G(z))) of O-GAN's eq. 7, as training logged it
        row["logged_rho"] = rho
    row["collapsed"] = bool(rules.verdict(row, benchmark.real))
    return row


def measure_checkpoints(name, seed, model, run_dir, benchmark):
    """A row for every checkpoint kept in run_dir (the last one included)."""
    from tqdm.auto import tqdm

    from common import checkpoint

    rows = []
    for path in checkpoint.list_checkpoints(os.path.join(run_dir, "checkpoints")):
        meta, flat = checkpoint.read(path)
        state = checkpoint.unflatten(flat, model.state_template())
        row = run_row(name, seed, meta["step"], model, state, run_dir, benchmark, samples=f"samples-{meta['step']}.npy")
        rows.append(row)
        tqdm.write(json.dumps(row))
    return rows
