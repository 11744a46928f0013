"""A trained run measured: its samples drawn and read by the dataset's yardstick, its
reconstructions where it has an encoder, and whether it collapsed."""

import json
import os

from collapse import digit_reader, rules
from collapse.protocols import SAMPLES


def evaluate_run(model, state, run_dir, points, test, reference, seed, name="samples.npy"):
    import numpy as np

    from collapse import mixtures
    from common import evaluation, metrics, stacked_digits
    from common.inference import Inference

    inference = Inference(model)
    if points:
        samples = inference.generate(state, evaluation.latents(SAMPLES, model.latent_dim, seed))
        np.save(os.path.join(run_dir, name), samples)
        return mixtures.coverage(points, samples)
    stacked = isinstance(reference, digit_reader.Reference)
    samples, _ = evaluation.draw_samples(inference, state, stacked_digits.SAMPLES if stacked else SAMPLES,
                                         model.latent_dim, seed)
    np.save(os.path.join(run_dir, name), samples[:SAMPLES])
    if stacked:
        row, digits = reference.sample_metrics(samples)
        row["of"] = stacked_digits.MODES
        np.save(os.path.join(run_dir, name.replace("samples", "digits")), digits.astype(np.uint8))
    else:
        row = reference.sample_metrics(samples)
    if inference.can_encode:
        reconstructions, _ = inference.reconstruct(state, test[:SAMPLES])
        row.update(metrics.reconstruction_metrics(test[:SAMPLES], reconstructions))
    return row


def run_row(name, seed, step, model, state, run_dir, points, test, reference, ref_figures, samples="samples.npy"):
    """A run's figures at one step, with where it logs rho (O-GAN) the logged rho of the 500 steps
    before, and whether it collapsed."""
    from common import run_folder

    row = {"model": name, "seed": seed, "step": step,
           **evaluate_run(model, state, run_dir, points, test, reference, seed, name=samples)}
    rho = run_folder.logged_mean(run_dir, "rho", end_step=step)
    if rho is not None:  # rho(z, E(G(z))) of O-GAN's eq. 7, as training logged it
        row["logged_rho"] = rho
    row["collapsed"] = bool(rules.verdict(row, ref_figures))
    return row


def measure_checkpoints(name, seed, model, run_dir, points, test, reference, ref_figures):
    """A row for every checkpoint kept in run_dir (the last one included)."""
    from tqdm.auto import tqdm

    from common import checkpoint

    rows = []
    for path in checkpoint.list_checkpoints(os.path.join(run_dir, "checkpoints")):
        meta, flat = checkpoint.read(path)
        state = checkpoint.unflatten(flat, model.initial_state())
        row = run_row(name, seed, meta["step"], model, state, run_dir, points, test, reference, ref_figures,
                      samples=f"samples-{meta['step']}.npy")
        rows.append(row)
        tqdm.write(json.dumps(row))
    return rows
