"""A stacked-digits run's samples read in both of G's modes, and how well E reads z back.

    python experiments/generator_modes.py results/ogan-stacked-w0.5/ogan-seed0

`mode_collapse.py` samples in inference mode (G's BatchNorm on its moving statistics), as
every figure here does. With BatchNorm in G, a collapse there may belong to the moving
statistics, not to G. This draws the same 26,000 z in training mode too: each batch of the
run's batch size (`--batch`) is normalised by its own statistics, as in training. It reads
both with the digit classifier. It also prints rho(z, E(G(z))) over those z (O-GAN's eq. 7) in both modes,
and the mean rho of the run's last 500 logged steps where its log has one. Writes
generator_modes.json in the run folder.
"""

import argparse
import json
import os

import _setup
import runs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="a stacked-digits run folder (mode_collapse.py --data stacked-digits)")
    p.add_argument("--batch", type=int,
                   help="the training-mode batch, whose statistics G normalises by (default: the run's batch size)")
    p.add_argument("--cache-dir", default=os.path.join(_setup.ROOT, "results", "cache"))
    args = p.parse_args(argv)

    import numpy as np
    from keras import ops

    from common import UserError, engine, evaluation, run_folder, stacked_digits
    from common.data import to_uint8
    from collapse.digit_reader import Reference

    model, state, meta = runs.load_run(args.run)
    if meta.get("data") != stacked_digits.NAME:
        raise UserError(f"{args.run} was not trained on stacked digits (its data: {meta.get('data')!r})")
    state = model.sampling_state(state)
    z = evaluation.latents(stacked_digits.SAMPLES, model.latent_dim, meta.get("seed", 0))
    training_batch = args.batch or model.cfg.batch_size
    if training_batch < 2:
        raise UserError(f"--batch must be at least 2 (a batch's statistics), not {training_batch}")

    def sample_and_read_back(state, z, training):
        x, state = model.call(state, "generator", z, training=training)
        if "encoder" not in model.nets:
            return x, ops.zeros(z.shape[:1])
        from ogan.losses import pearson_correlation

        codes, _ = model.call(state, "encoder", x, training=training)
        return x, pearson_correlation(z, codes)

    reference = Reference(model.cfg.resolution, args.cache_dir)
    found = {"run": args.run, "step": meta["step"], "logged_rho_last_500_steps": run_folder.logged_mean(args.run, "rho")}
    for mode, training, batch in (("inference", False, 1000), ("training", True, training_batch)):
        step = model.compiled(f"generator_modes_{mode}", lambda s, z, t=training: sample_and_read_back(s, z, t))
        images, rho = [], []
        for i in range(0, len(z) - batch + 1, batch):  # whole batches: training mode needs batch statistics
            x, r = engine.to_numpy(step(state, z[i:i + batch]))
            images.append(to_uint8(x))
            rho.append(r)
        figures, _ = reference.sample_metrics(np.concatenate(images))
        found[mode] = {**figures, "rho": float(np.mean(np.concatenate(rho)))}
        print(f"{mode} mode: {figures['modes']} of {stacked_digits.MODES} modes, KL {figures['kl']:.3f}, "
              f"rho(z, E(G(z))) {found[mode]['rho']:.3f}")
    if found["logged_rho_last_500_steps"] is not None:
        print(f"rho logged over the last 500 steps: {found['logged_rho_last_500_steps']:.3f}")
    with open(os.path.join(args.run, "generator_modes.json"), "w") as f:
        json.dump(found, f, indent=1)


if __name__ == "__main__":
    _setup.run(main)
