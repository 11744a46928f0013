"""Training a built model into a run folder: its data, its sampler and the loop (or several
seeds as one program), and what its checkpoints record about it."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_data(data, resolution, default_data=(), center_crop=False, cache_dir=None):
    """(images, source): `data` (a folder or .zip of images), else the first of `default_data`
    (paths under the repository's root) that exists, else the embedded digits."""
    from common import data as datasets

    path = data
    if path is None:
        path = next((os.path.join(ROOT, d) for d in default_data if os.path.exists(os.path.join(ROOT, d))), None)
    if path is None:
        print(f"no --data given{' and none of ' + ', '.join(default_data) if default_data else ''}: "
              "training on scikit-learn's handwritten digits (the embedded default)")
        return datasets.digits_images(resolution), "sklearn-digits"
    return datasets.load_images(path, resolution, center_crop=center_crop, cache_dir=cache_dir), os.path.abspath(path)


def load_split(data, resolution, default_data=(), center_crop=False, cache_dir=None):
    """(training images, test images, source) of `data` as load_data reads it; for
    `stacked-digits` the training images are an unbounded stream (common/stacked_digits.py)."""
    from common import data as datasets, stacked_digits

    if data == stacked_digits.NAME:
        return stacked_digits.Stream(resolution), stacked_digits.test_images(resolution), stacked_digits.NAME
    images, source = load_data(data, resolution, default_data, center_crop, cache_dir)
    return (*datasets.split(images), source)


def fit(model, train_images, test_images, out, source, seed, preset, center_crop=False, resume=False,
        checkpoint_every=1000, sample_every=1000, keep=3, verbose=1, skip_nonfinite=False,
        cpu_compile="auto", cache_dir=None, rounds_per_call=1, round_program="auto"):
    """Train a built model (seeded by the caller) on its config's schedule, writing under `out`."""
    import zlib

    import numpy as np

    from common import data, engine, loop

    cfg = model.cfg
    if hasattr(train_images, "sampler"):  # a source that draws its own batches (stacked digits' stream)
        sampler = train_images.sampler(cfg.batch_size, model.images_per_round, model.latents_per_round,
                                       model.latent_dim, seed)
    else:
        if engine.process_count() > 1:  # each process draws the global batch from its own copy
            engine.check_same_on_every_process(
                np.array([len(train_images), *divmod(zlib.crc32(np.ascontiguousarray(train_images)), 1 << 16)],
                         np.int32),
                "the processes loaded different training images: give every process the same --data")
        sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                    model.latents_per_round, model.latent_dim, seed, cfg.mirror)
    meta = run_meta(model, seed, source, preset, center_crop)
    return loop.train(model, sampler, test_images, out, meta, cfg.steps, resume=resume,
                      checkpoint_every=checkpoint_every, sample_every=sample_every, keep=keep,
                      verbose=verbose, skip_nonfinite=skip_nonfinite, cpu_compile_mode=cpu_compile,
                      cache_dir=cache_dir, rounds_per_call=rounds_per_call, round_program=round_program)


def run_meta(model, seed, source, preset, center_crop=False):
    """What a run's checkpoints record about it."""
    import dataclasses

    import keras

    return {"model": type(model).__name__, "config": dataclasses.asdict(model.cfg), "seed": seed,
            "data": source, "center_crop": bool(center_crop), "backend": keras.backend.backend(), "preset": preset}


def fit_batched(models, seeds, train_images, test_images, outs, source, preset, checkpoint_every=1000,
                sample_every=1000, keep=3, rounds_per_call=100):
    """Train one model's runs, one per seed (each model built under its seed), as one program
    (common/batched_runs.py), each writing under its own folder in `outs`; resumed where they have
    checkpoints. Returns their states."""
    from common import batched_runs, data, loop

    runs = []
    for model, seed, out in zip(models, seeds, outs):
        cfg = model.cfg
        sampler = data.RoundSampler(train_images, cfg.batch_size, model.images_per_round,
                                    model.latents_per_round, model.latent_dim, seed, cfg.mirror)
        runs.append(batched_runs.Run(sampler, test_images, out, run_meta(model, seed, source, preset),
                                     model.initial_state()))
    states, _ = loop.train_batched(models[0], runs, models[0].cfg.steps, resume=True,
                                   checkpoint_every=checkpoint_every, sample_every=sample_every, keep=keep,
                                   rounds_per_call=rounds_per_call)
    return states
