"""The O-GAN authors' layers (their CelebA scripts) matched to ours, for replaying their steps.

Their scripts create E's layers block by block (a convolution, then its BatchNorm from the
second block on), then the Dense to z; G's from the Dense of z down: Dense, BatchNorm, each
transposed convolution and its BatchNorm, the output convolution. In the self-modulated
variant each of G's BatchNorms is followed by beta's two Dense layers, then gamma's
(`BN(h) * (gamma(z) + 1) + beta(z)`). `creation_order` lists our layers in that order, and
`common.keras2_weights.pair_by_creation` pairs theirs with ours by it, since several of those
Dense layers have the same shape and differ only in role.
"""

from common.keras2_weights import assign, layers_of_keys, pair_by_creation


def creation_order(cfg):
    """{network: our layer names, in the order the authors' script creates the same layers}."""
    encoder = []
    for i in range(cfg.blocks):
        encoder += [f"block{i}_conv"] + ([f"block{i}_norm"] if i > 0 else [])
    encoder.append("to_latent")

    def norm(name):
        if cfg.generator_norm == "batch":
            return [name]
        return [name, f"{name}_beta_hidden", f"{name}_beta", f"{name}_gamma_hidden", f"{name}_gamma"]

    generator = ["from_latent", *norm("from_latent_norm")]
    for i in range(cfg.blocks - 1):
        generator += [f"block{i}_deconv", *norm(f"block{i}_norm")]
    generator.append("to_image")
    return {"encoder": encoder, "generator": generator}


def load_keyed(model, tensors):
    """Set E's and G's weights (BatchNorm moving statistics included) from their tensors,
    keyed `NET/K/LAYER/WEIGHT`. Returns {network: [(our variable, K)]}."""
    order = {}
    for net, names in creation_order(model.cfg).items():
        keras_model = model.nets[net]
        theirs = layers_of_keys({k: v for k, v in tensors.items() if k.split("/")[0] == net})
        ours = [keras_model.get_layer(name) for name in names]
        order[net] = assign(theirs, pair_by_creation(theirs, ours, f"the authors' {net}"))
    return order
