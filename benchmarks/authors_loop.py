"""The AEGAN authors' training loop, timed: the yardstick our step is compared with.

    pip install tf-keras==$(python -c "import tensorflow as tf; print(tf.__version__)")
    python benchmarks/authors_loop.py --fixture DIR_OF_THEIR_H5_FILES --rounds 3

Their four networks are loaded from the .h5 files their train.py writes (the recorded round in
`fixtures/aegan-authors-round` is such a set: 64x64, latent 32, the paper config) and trained as
their loop trains them: tf_keras models compiled with Adam (beta_1 0.5,
clipnorm 1; 5e-4 for Dx and Dz, 2e-4 for G+E), a round of `predict` for the fakes, then 4 Dx,
4 Dz and 4 joint G+E `train_on_batch` calls, the discriminators frozen in the joint model. The
first round (tf_keras builds its train functions) is printed apart. Prints figures; asserts nothing.
Run it beside `benchmarks/train_step.py --models aegan --presets paper`, on the same idle CPU.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from common import cpu_compile

FILES = ("generator", "encoder", "discriminator_image", "discriminator_latent")


def build(fixture):
    import tf_keras as K

    nets = {}
    for name in FILES:
        path = os.path.join(fixture, f"{name}.h5")
        if not os.path.exists(path):
            sys.exit(f"error: {path} does not exist: give --fixture a folder of the authors' four .h5 networks")
        nets[name] = K.models.load_model(path, compile=False)
        nets[name].trainable = True  # their files record the layers frozen as the joint model saw them

    def adam(lr):
        return K.optimizers.Adam(learning_rate=lr, beta_1=0.5, clipnorm=1.0)

    g, e, dx, dz = (nets[n] for n in FILES)
    dx.compile(adam(5e-4), "binary_crossentropy")
    dz.compile(adam(5e-4), "binary_crossentropy")
    dx.trainable = dz.trainable = False  # in the joint model (each keeps what it had at its compile)
    x = K.Input(g.output_shape[1:])
    z = K.Input(e.output_shape[1:])
    z_of_x, x_of_z = e(x), g(z)  # each network called twice per update, as theirs
    x_tilde, z_tilde = g(z_of_x), e(x_of_z)
    joint = K.Model([x, z], [x_tilde, z_tilde, dx(x_of_z), dx(x_tilde), dz(z_of_x), dz(z_tilde)])
    joint.compile(adam(2e-4), ["mae", "mse"] + ["binary_crossentropy"] * 4, loss_weights=[10, 5, 1, 1, 1, 1])
    return g, e, dx, dz, joint


def one_round(g, e, dx, dz, joint, rng, batch):
    image_shape, latent = g.output_shape[1:], e.output_shape[1]

    def images():
        return rng.uniform(-1, 1, (batch, *image_shape)).astype(np.float32)

    def latents():
        return rng.standard_normal((batch, latent)).astype(np.float32)

    real, fake = np.full((batch, 1), 0.95, np.float32), np.full((batch, 1), 0.05, np.float32)
    ones = np.ones((batch, 1), np.float32)
    x_hat = g.predict(latents(), verbose=0)
    x_tilde = g.predict(e.predict(images(), verbose=0), verbose=0)
    z_hat = e.predict(images(), verbose=0)
    z_tilde = e.predict(g.predict(latents(), verbose=0), verbose=0)
    for inputs, target in ((images(), real), (x_hat, fake), (images(), real), (x_tilde, fake)):
        dx.train_on_batch(inputs, target)
    for inputs, target in ((latents(), real), (z_hat, fake), (latents(), real), (z_tilde, fake)):
        dz.train_on_batch(inputs, target)
    for _ in range(4):
        x, z = images(), latents()
        joint.train_on_batch([x, z], [x, z, ones, ones, ones, ones])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixture", required=True, help="folder of the authors' generator.h5, encoder.h5, "
                                                    "discriminator_image.h5, discriminator_latent.h5")
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (a round is 4 steps)")
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args()
    try:
        import tf_keras  # noqa: F401
    except ImportError:
        sys.exit("error: the authors' loop runs on tf_keras: pip install tf-keras matching your TensorFlow")
    nets = build(args.fixture)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    one_round(*nets, rng, args.batch_size)
    first = time.perf_counter() - t
    times = []
    for _ in range(args.rounds):
        t = time.perf_counter()
        one_round(*nets, rng, args.batch_size)
        times.append(time.perf_counter() - t)
    per_step = [1e3 * s / 4 for s in times]
    print(f"authors' loop (tf_keras train_on_batch, float32): {np.mean(per_step):.0f} ms/step "
          f"(rounds: {', '.join(f'{s:.0f}' for s in per_step)} ms/step; first round incl. building "
          f"{first:.1f} s; batch {args.batch_size}, {nets[0].output_shape[1]}x{nets[0].output_shape[2]}, "
          f"latent {nets[1].output_shape[1]}; on {cpu_compile.cpu_name()})", flush=True)


if __name__ == "__main__":
    main()
