"""Training speed of GAN, AAE, AEGAN and O-GAN on the current backend: compile time, ms/step, GFLOP/s.

    python benchmarks/train_step.py                       # all models, paper and small presets
    KERAS_BACKEND=jax python benchmarks/train_step.py --models aegan --presets paper

An AEGAN-family step is a quarter of a round (the authors' count); an O-GAN step is one
iteration (one joint E and G update), at O-GAN's own presets (paper: 128x128, batch 64). Warm-up (compilation and the first
round) is excluded from the timing and printed apart. FLOPs are model FLOPs counted from the
networks' convolution and dense layers (multiply-add = 2 FLOPs; a backward pass = 2x the
forward), for the calls one round makes, so GFLOP/s compares across backends and machines.
Prints figures; asserts nothing.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from aegan import config as aegan_config
from aegan.models import build_model
from common import engine
from ogan import config as ogan_config
from ogan.models import OGAN


def forward_flops(model):
    """Multiply-add FLOPs of one sample through a Keras model's Conv2D and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape))
    return total


# (network, samples per batch, passes) per round: passes 1 = forward only, 3 = forward and
# backward to weights and inputs, 2 = forward and backward to inputs only (frozen network).
ROUND_CALLS = {
    "aegan": [("encoder", 2, 1), ("generator", 3, 1), ("encoder", 1, 1),
              ("discriminator_image", 4, 3), ("discriminator_latent", 4, 3),
              ("encoder", 4, 3), ("generator", 8, 3), ("encoder", 4, 3),
              ("discriminator_image", 8, 2), ("discriminator_latent", 8, 2)],
    "gan": [("generator", 2, 1), ("discriminator_image", 4, 3),
            ("generator", 4, 3), ("discriminator_image", 4, 2)],
    "aae": [("encoder", 2, 1), ("discriminator_latent", 4, 3),
            ("encoder", 4, 3), ("generator", 4, 3), ("discriminator_latent", 4, 2)],
    # E on real (to weights), on G(z) (to weights and image), on sg(G(z)) (to weights); G to weights.
    "ogan": [("generator", 1, 2), ("encoder", 1, 2), ("encoder", 1, 3), ("encoder", 1, 2)],
}


def round_flops(model, name, batch):
    return sum(forward_flops(model.nets[n]) * batches * batch * passes
               for n, batches, passes in ROUND_CALLS[name])


def bench(name, preset, rounds, fuse=True, peak_tflops=None):
    keras.utils.set_random_seed(0)
    if name == "ogan":
        cfg = ogan_config.make_config(preset)
        model = OGAN(cfg)
    else:
        cfg = aegan_config.make_config(preset, model=name)
        model = build_model(cfg)
    state = model.initial_state()
    rng = np.random.default_rng(0)
    b, r = cfg.batch_size, cfg.resolution
    imgs = rng.uniform(-1, 1, (model.images_per_round, b, r, r, 3)).astype(np.float32)
    zs = rng.standard_normal((model.latents_per_round, b, model.latent_dim)).astype(np.float32)
    round_fn = lambda state, imgs, zs: model.train_round(state, imgs, zs, fuse)
    t = time.perf_counter()
    state, losses, _ = round_fn(state, imgs, zs)
    engine.to_numpy(losses)
    warmup = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(rounds):
        state, losses, _ = round_fn(state, imgs, zs)
    engine.to_numpy(losses)
    steps = model.steps_per_round
    per_step = (time.perf_counter() - t) / rounds / steps
    gflops = round_flops(model, name, b) / steps / per_step / 1e9
    mfu = f", {gflops / 1e3 / peak_tflops:.1%} of the {peak_tflops:g} TFLOP/s peak" if peak_tflops else ""
    print(f"{name} {preset}: {per_step * 1e3:.1f} ms/step ({1 / per_step:.2f} steps/s, "
          f"{gflops:.0f} GFLOP/s{mfu}) [first round incl. compile {warmup:.1f} s; "
          f"{round_flops(model, name, b) / 1e9:.0f} GFLOP per round of {steps} steps, batch {b}, "
          f"{cfg.resolution}x{cfg.resolution}; {keras.backend.backend()}, "
          f"{'one program per round' if fuse else 'one program per update'}]",
          flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="gan,aae,aegan,ogan")
    p.add_argument("--presets", default="paper,small")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds per model")
    p.add_argument("--fuse", choices=("yes", "no"), default="yes",
                   help="the round as one program (yes, as long runs train) or one program per update (no)")
    p.add_argument("--peak-tflops", type=float, help="the device's peak: prints the fraction reached (MFU)")
    args = p.parse_args()
    fuse = args.fuse == "yes"
    for preset in args.presets.split(","):
        for name in args.models.split(","):
            bench(name, preset, args.rounds, fuse, args.peak_tflops)


if __name__ == "__main__":
    main()
