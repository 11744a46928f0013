"""The benchmarks' training protocols: each model's config for a dataset, and the schedule of
checkpoints a run keeps.

The 2-D protocols. "mlp", this project's own: dense networks of 3 x 128 units, latent 8 (O-GAN
needs at least 3 for its correlation), batch 100, and each model's own learning rates,
optimizers and labels from its paper preset. "pacgan": PacGAN's 2-D networks, optimizer and
loss (the "pacgan" presets, aegan/config.py), under which its published figures were measured.
Either way the losses and update order stay each model's own. Each is a preset of every model.
"""

import os

from runs import registry

SAMPLES = 2500  # samples drawn per run, and held-out test points on the 2-D mixtures
PROTOCOLS = ("mlp", "pacgan")


def build(name, preset, steps, points, protocol="mlp", corr_weight=None):
    """The config of one model at a preset, or under a 2-D protocol (its preset of that name);
    corr_weight, where given, is O-GAN's lambda_2 (eq. 11)."""
    entry = registry.get(name)
    weight = {"correlation_weight": corr_weight} if hasattr(entry.config_class, "correlation_weight") else {}
    return entry.make_config(protocol if points else preset, steps=steps, **weight)


def checkpoint_schedule(cfg, curve_every):
    """(steps between checkpoints, checkpoints kept): with a curve, every one of them."""
    every = curve_every or max(cfg.steps // 4, 1)
    return every, cfg.steps // every + 2 if curve_every else 3


def run_path(out, name, seed):
    return os.path.join(out, f"{name}-seed{seed}")


def finished(run_dir, steps):
    """The newest checkpoint of run_dir (path, meta, arrays), whether the run is done, or None."""
    from common import checkpoint

    latest = checkpoint.load_latest(os.path.join(run_dir, "checkpoints"))
    return latest, bool(latest and latest[1]["step"] >= steps)


def train_run(name, seed, cfg, out, benchmark, preset, curve_every=None, rounds_per_call=1, cache_dir=None):
    """(model, state, step) of one run: trained (or resumed) to cfg.steps, or, already finished,
    read from where it stopped (a run trained further earlier is measured there)."""
    from tqdm.auto import tqdm

    import runs
    from common import checkpoint, engine

    run_dir = run_path(out, name, seed)
    engine.set_random_seed(seed)
    model = registry.build(cfg)
    latest, done = finished(run_dir, cfg.steps)
    if done:
        tqdm.write(f"{run_dir}: finished at step {latest[1]['step']}, evaluating")
        return model, checkpoint.unflatten(latest[2], model.state_template()), latest[1]["step"]
    tqdm.write(f"{run_dir}: training {name}, seed {seed}, {cfg.steps} steps")
    every, keep = checkpoint_schedule(cfg, curve_every)
    state, _ = runs.fit(model, benchmark.train, benchmark.test, run_dir, source=benchmark.source, seed=seed,
                        preset="2d" if benchmark.points else preset, resume=latest is not None,
                        checkpoint_every=every, sample_every=cfg.steps, keep=keep, cache_dir=cache_dir,
                        rounds_per_call=rounds_per_call if benchmark.points else 1)
    return model, state, cfg.steps


def train_batched(names, seeds, configs, out, benchmark, seeds_per_program, curve_every=None, rounds_per_call=100):
    """The 2-D runs not yet finished, `seeds_per_program` seeds of a model at a time, each group as
    one program (common/batched_runs.py); train_run then reads them as runs trained alone."""
    import runs
    from common import engine

    for name in names:
        cfg = configs[name]
        todo = [seed for seed in seeds if not finished(run_path(out, name, seed), cfg.steps)[1]]
        for i in range(0, len(todo), seeds_per_program):
            group = todo[i:i + seeds_per_program]
            print(f"training {name}, seeds {', '.join(map(str, group))} as one program, {cfg.steps} steps")
            models = []
            for seed in group:
                engine.set_random_seed(seed)
                models.append(registry.build(cfg))
            every, keep = checkpoint_schedule(cfg, curve_every)
            runs.fit_batched(models, group, benchmark.train, benchmark.test, [run_path(out, name, s) for s in group],
                             benchmark.source, "2d", checkpoint_every=every, sample_every=cfg.steps, keep=keep,
                             rounds_per_call=rounds_per_call)
