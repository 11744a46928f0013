"""The papers' figures, regenerated from a run's saved checkpoint and fixed test images alone.

    python experiments/figures.py --run results/aegan
    python experiments/figures.py --run results/aegan --compare results/gan    # AEGAN Fig. 3
    python experiments/figures.py --run results/aegan --compare results/aae    # AEGAN Fig. 4

Writes under --out (default RUN/figures), each PNG with a caption naming run, step and seed:
samples.png (fixed z), reconstructions.png (real beside reconstruction), interpolations.png
(rows between encoded test images; the first row runs from an image to its mirror: AEGAN
Fig. 1), interpolation.gif, losses.png (every logged loss, smoothed), and with --compare
RUN, compare_samples.png (both generators on the same 100 z: Fig. 3) and, when both runs
have an encoder, compare_reconstructions.png (real, this run's, the other's: Fig. 4).
O-GAN runs use the paper's layouts (9x9 samples, 8x8 real/reconstruction, rows of 12).
"""

import argparse
import os

import _setup
import runs
import numpy as np

from common import UserError
from common.images import beside, caption


class Figures:
    def __init__(self, run, out):
        from common.inference import Inference

        self.run = run
        self.model, self.state, self.meta = runs.load_run(run)
        self.inference = Inference(self.model)
        with np.load(os.path.join(run, "fixed.npz")) as f:
            self.images, self.z = f["images"], f["z"]
        self.layout = self.model.grids
        self.out = out
        self.label = f"{os.path.basename(os.path.normpath(run))} ({self.meta.get('model', '?')}), " \
                     f"step {self.meta['step']}, seed {self.meta['seed']}"

    def save(self, name, image, text):
        from common.images import save_png

        path = os.path.join(self.out, name)
        save_png(path, caption(image, f"{self.label}: {text}"))
        print(path)

    def samples(self):
        from common.data import to_uint8
        from common.images import grid

        n, cols = (self.layout.samples, self.layout.sample_columns) if self.layout.samples <= 100 else (100, 10)
        fake = to_uint8(self.inference.generate(self.state, self.z[:n]))
        self.save("samples.png", grid(fake, cols), f"samples from the run's first {n} fixed z")

    def reconstructions(self):
        from common.images import grid, interleave

        shown = self.images[:self.layout.pairs]
        recon, _ = self.inference.reconstruct(self.state, shown)
        self.save("reconstructions.png", grid(interleave(shown, recon), self.layout.pair_columns),
                  "test images (left) and their reconstructions G(E(x)) (right)")

    def interpolations(self):
        from common.images import grid

        rows = self.layout.interpolation_rows
        starts = np.concatenate([self.images[:1], self.images[1:2 * rows - 1:2]])
        ends = np.concatenate([self.images[:1, :, ::-1], self.images[2:2 * rows:2]])  # row 1: the mirror
        k = self.layout.interpolation_points
        decoded = self.inference.interpolate(self.state, starts, ends, k)
        strips = np.concatenate([starts[:, None], decoded, ends[:, None]], axis=1)
        self.save("interpolations.png", grid(strips.reshape(-1, *strips.shape[2:]), k + 2),
                  f"real, {k} decoded codes from E(a) to E(b) (ends: reconstructions), real; "
                  "first row: an image and its mirror")

    def gif(self, path_images=6, frames=12):
        from PIL import Image

        from common.files import write_atomic

        ring = self.images[:path_images]
        decoded = self.inference.interpolate(self.state, ring, np.roll(ring, -1, axis=0), frames + 1)[:, :-1]
        sequence = [Image.fromarray(f).resize((f.shape[1] * 2, f.shape[0] * 2), Image.NEAREST)
                    for f in decoded.reshape(-1, *decoded.shape[2:])]
        path = os.path.join(self.out, "interpolation.gif")
        write_atomic(path, lambda f: sequence[0].save(f, format="GIF", save_all=True,
                                                      append_images=sequence[1:], duration=80, loop=0))
        print(path)

    def losses(self):
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        from common.files import write_atomic

        log = np.genfromtxt(os.path.join(self.run, "losses.csv"), delimiter=",", names=True)
        columns = [c for c in log.dtype.names if c not in ("step", "seconds")]
        fig, axes = plt.subplots(len(columns), 1, figsize=(7, 1.8 * len(columns)), sharex=True,
                                 dpi=100, squeeze=False)
        window = max(1, len(log) // 100)
        for ax, c in zip(axes[:, 0], columns):
            smooth = np.convolve(log[c], np.ones(window) / window, mode="valid")
            ax.plot(log["step"], log[c], color="0.8", linewidth=0.5)
            ax.plot(log["step"][window - 1:], smooth, color="tab:blue", linewidth=1)
            ax.set_ylabel(c, fontsize=8)
        axes[-1, 0].set_xlabel("step")
        fig.suptitle(f"{self.label}: losses (grey) and their mean over {window} logged rounds", fontsize=9)
        fig.tight_layout()
        path = os.path.join(self.out, "losses.png")
        write_atomic(path, lambda f: fig.savefig(f, format="png"))
        plt.close(fig)
        print(path)

    def compare(self, other):
        from common.data import to_uint8
        from common.images import grid

        if other.model.latent_dim != self.model.latent_dim:
            raise UserError(f"{other.run} has latent size {other.model.latent_dim}, {self.run} "
                              f"{self.model.latent_dim}: the same z cannot drive both")
        z = self.z[:100]
        mine, theirs = (to_uint8(f.inference.generate(f.state, z)) for f in (self, other))
        self.save("compare_samples.png", beside(theirs, mine),
                  f"the same 100 z through {other.label} (left) and this run (right)")
        if self.inference.can_encode and other.inference.can_encode:
            shown = self.images[:30]
            ours, _ = self.inference.reconstruct(self.state, shown)
            other_recon, _ = other.inference.reconstruct(other.state, shown)
            triples = np.stack([shown, other_recon, ours], axis=1).reshape(-1, *shown.shape[1:])
            self.save("compare_reconstructions.png", grid(triples, 9),
                      f"real, {other.label}'s reconstruction, this run's reconstruction")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="a training run's folder")
    p.add_argument("--compare", help="another run: same z and same test images through both")
    p.add_argument("--out", help="folder for the figures (default RUN/figures)")
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.run, "fixed.npz")):
        raise UserError(f"{args.run} has no fixed.npz: is it a training run's folder?")
    figures = Figures(args.run, args.out or os.path.join(args.run, "figures"))
    os.makedirs(figures.out, exist_ok=True)
    figures.samples()
    if figures.inference.can_encode:
        figures.reconstructions()
        figures.interpolations()
        figures.gif()
    if os.path.exists(os.path.join(args.run, "losses.csv")):
        figures.losses()
    if args.compare:
        figures.compare(Figures(args.compare, figures.out))


if __name__ == "__main__":
    _setup.run(main)
