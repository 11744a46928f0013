"""Metrics of sample and reconstruction files written by experiments/sample.py.

    python experiments/evaluate.py --samples samples.npz                  # against the run's data
    python experiments/evaluate.py --samples samples.npz --data faces.zip --fid
    python experiments/evaluate.py --reconstructions encoded.npz

Samples: NDB/K and JSD over K-means bins of the training split (Richardson & Weiss 2018),
mean pairwise distance and the near-duplicate rate, each beside the same figure for the
held-out real images; with --fid, FID and KID on InceptionV3 features (Keras' ImageNet
weights: compare within this project only). Reconstructions: L1, PSNR, SSIM and the
sharpness ratio. Prints JSON; --out also writes it.
"""

import argparse
import json
import os

import _setup


def _load(path, keys):
    import numpy as np

    from common import UserError

    if not os.path.exists(path):
        raise UserError(f"file does not exist: {path}")
    try:
        with np.load(path) as f:
            missing = [k for k in keys if k not in f]
            if missing:
                raise UserError(f"{path} has no {', '.join(missing)}: was it written by experiments/sample.py"
                                f"{' --encode' if 'reconstructions' in keys else ''}?")
            meta = json.loads(str(f["meta"])) if "meta" in f else {}
            return {k: f[k] for k in keys}, meta
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} as .npz: {e}") from None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", help=".npz of samples (experiments/sample.py)")
    p.add_argument("--reconstructions", help=".npz of reconstructions (experiments/sample.py --encode)")
    p.add_argument("--data", help="the real images (default: the data the run was trained on)")
    p.add_argument("--center-crop", action="store_true", help="crop --data images to a centred square")
    p.add_argument("--bins", type=int, default=100, help="K of NDB (default 100)")
    p.add_argument("--fid", action="store_true", help="also FID and KID (InceptionV3)")
    p.add_argument("--inception-weights", help="a local InceptionV3 'notop' weights file")
    p.add_argument("--cache-dir", default=os.path.join(_setup.ROOT, "results", "cache"))
    p.add_argument("--out", help="also write the figures to this .json file")
    args = p.parse_args(argv)

    from common import UserError, data, evaluation, metrics

    if not (args.samples or args.reconstructions):
        raise UserError("give --samples FILE, --reconstructions FILE or both")
    results = {}
    if args.reconstructions:
        arrays, _ = _load(args.reconstructions, ["images", "reconstructions"])
        results["reconstruction"] = metrics.reconstruction_metrics(arrays["images"], arrays["reconstructions"])
    if args.samples:
        arrays, meta = _load(args.samples, ["images"])
        samples = arrays["images"]
        source = args.data or meta.get("data")
        if source is None:
            raise UserError("the samples do not say which data their run used: give --data")
        if source == "sklearn-digits":
            images = data.digits_images(samples.shape[1])
        else:
            images = data.load_images(source, samples.shape[1],
                                      center_crop=args.center_crop or meta.get("center_crop", False),
                                      cache_dir=args.cache_dir)
        train, test = data.split(images)
        reference = evaluation.Reference(train, test, k=args.bins)
        results["samples"] = {**reference.sample_metrics(samples), "n": len(samples)}
        results["real_held_out"] = {**reference.real, "n": len(test)}
        if args.fid:
            inception = metrics.Inception(args.inception_weights)
            results["samples"].update(evaluation.inception_metrics(inception, train, samples))
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    _setup.run(main)
