"""Turn the AEGAN authors' .h5 checkpoints into one of our runs, to continue with --resume.

    python experiments/import_authors.py --dir THEIR_OUTPUT_DIR --out results/imported
    python experiments/import_authors.py --generator G.h5 --encoder E.h5 \\
        --discriminator-image DX.h5 --discriminator-latent DZ.h5 --out results/imported

Then: python experiments/aegan_anime.py --resume --out results/imported --latent-dim N ...
"""

import argparse
import dataclasses
import os

import _setup

from aegan.authors import FILES, infer_sizes, load_into
from aegan.config import make_config
from common import checkpoint
from common.keras2_weights import AuthorsFileError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", help="a folder holding " + ", ".join(FILES.values()))
    for name in FILES:
        p.add_argument("--" + name.replace("_", "-"), dest=name, help=f"the authors' {FILES[name]}")
    p.add_argument("--out", required=True, help="run folder to create")
    args = p.parse_args(argv)
    paths = {n: getattr(args, n) or (os.path.join(args.dir, f) if args.dir else None)
             for n, f in FILES.items()}
    missing = [n for n, path in paths.items() if not path]
    if missing:
        raise AuthorsFileError(f"give --dir or every file; missing: {', '.join(missing)}")
    if checkpoint.list_checkpoints(os.path.join(args.out, "checkpoints")):
        raise AuthorsFileError(f"{args.out} already holds a run; choose another --out")
    latent_dim, resolution = infer_sizes(paths["generator"], paths["encoder"])
    cfg = make_config("paper", latent_dim=latent_dim, resolution=resolution)

    import keras

    from runs import registry

    model = registry.build(cfg)
    for name, path in paths.items():  # every file is checked before anything is written
        load_into(model.nets[name], path)
    meta = {"config": dataclasses.asdict(cfg), "seed": 0, "data": None,
            "backend": keras.backend.backend(), "preset": "paper",
            "imported_from": {n: os.path.abspath(path) for n, path in paths.items()}}
    path = checkpoint.save(os.path.join(args.out, "checkpoints"), 0, model.initial_state(), meta)
    print(f"imported the authors' networks (latent {latent_dim}, {resolution}x{resolution}) into "
          f"{path}\ncontinue with: python experiments/aegan_anime.py --resume --out {args.out} "
          f"--latent-dim {latent_dim} --resolution {resolution} --data PATH")


if __name__ == "__main__":
    _setup.run(main)
