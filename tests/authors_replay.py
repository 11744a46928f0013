"""A recording of the authors' code (tests/fixtures/) replayed through our model, in a process
of its own (JAX's float64 switch is process-wide), for test_authors_equivalence.py.

    python tests/authors_replay.py FIXTURE.json VARIANT PRECISION OUT.json

VARIANT is `aegan` for the AEGAN round, or one of the O-GAN recording's `variants`; PRECISION
float32 or float64. Every initial weight and input is regenerated from the recording's seeds;
sizes, steps and learning rates are read from it. Writes, computed by our code, what the
recording holds: each update's losses (AEGAN) or each step's loss, t1 and rho (O-GAN), and for
every tensor of its `weights_after` the same summary (sum, L2 norm, values at its positions),
with the arrays' dtypes and the networks' parameter counts.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from common import engine  # noqa: E402

# The O-GAN recording's scripts, as our config: kernel size and G's normalisation.
OGAN_VARIANTS = {"o_gan_celeba": {"kernel_size": 5, "generator_norm": "batch"},
                 "o_gan_celeba_sm_4x4": {"kernel_size": 4, "generator_norm": "self-modulated"}}


def seeded(spec, dtype):
    """`loc + scale * RandomState(seed).standard_normal(shape)` in float64, cast to dtype."""
    draw = np.random.RandomState(spec["seed"]).standard_normal(spec["shape"])
    return (spec["loc"] + spec["scale"] * draw).astype(dtype)


def replay_aegan(fixture, run, dtype):
    from aegan.authors import load_keyed
    from aegan.config import make_config
    from runs import registry

    c, rates = fixture["config"], run["learning_rates"]
    cfg = make_config("paper", resolution=c["resolution"], latent_dim=c["latent_dim"], batch_size=c["batch"],
                      discriminator_lr=rates["discriminator_image"], generator_encoder_lr=rates["aegan"],
                      input_noise=0.0, dropout_rate=0.0, precision=dtype)
    assert rates["discriminator_latent"] == rates["discriminator_image"], rates
    model = registry.build(cfg)
    # TensorFlow runs a graph on its own CPU kernels, as the authors' train_on_batch does (XLA:CPU's
    # float64 convolutions are far slower; O-GAN's default already). JAX always compiles with XLA.
    model.set_compile_mode(False)
    order = load_keyed(model, {k: seeded(s, dtype) for k, s in fixture["initial"].items()})
    draws = {"data": [], "noise": []}
    for i, kind in enumerate(run["order_of_inputs"]):
        rs = np.random.RandomState(100 + i)
        draws[kind].append(rs.uniform(-1, 1, (c["batch"], c["resolution"], c["resolution"], 3)) if kind == "data"
                           else rs.standard_normal((c["batch"], c["latent_dim"])))
    state = model.initial_state()
    check = _dtypes(state)
    state, losses = model.round(state, np.stack(draws["data"]).astype(dtype), np.stack(draws["noise"]).astype(dtype))
    state, losses = engine.to_numpy((state, losses))
    updates = [*losses["discriminator_image"][:, 0], *losses["discriminator_latent"][:, 0],
               *[list(row) for row in losses["generator_encoder"]]]
    return model, order, state, check, {"updates": [_floats(u) for u in updates]}


def replay_ogan(fixture, run, variant, dtype):
    from ogan.authors import load_keyed
    from ogan.config import make_config
    from ogan.models import OGAN

    c, opt = fixture["config"], run["optimizer"]
    assert (opt["name"], opt["momentum"], opt["centered"], opt["epsilon"]) == ("RMSprop", 0.0, False, 1e-7), opt
    cfg = make_config("paper", resolution=c["resolution"], latent_dim=c["z_dim"], batch_size=c["batch"],
                      learning_rate=opt["learning_rate"], rmsprop_rho=opt["rho"], precision=dtype,
                      **OGAN_VARIANTS[variant])
    model = OGAN(cfg)
    order = load_keyed(model, {k: seeded(s, dtype) for k, s in run["initial"].items()})
    state = model.initial_state()
    check = _dtypes(state)
    steps = []
    for s in range(c["steps"]):
        x = np.random.RandomState(100 + s).uniform(-1, 1, (c["batch"], c["resolution"], c["resolution"], 3))
        z = np.random.RandomState(200 + s).standard_normal((c["batch"], c["z_dim"]))
        state, losses = model.round(state, x[None].astype(dtype), z[None].astype(dtype))
        loss, gap, rho = engine.to_numpy(losses)["generator_encoder"][0]
        steps.append({"loss": float(loss), "t_loss": float(gap), "z_corr": float(rho)})
    return model, order, engine.to_numpy(state), check, {"steps": steps}


def main(path, variant, dtype, out):
    keras.utils.set_random_seed(0)
    with open(path) as f:
        fixture = json.load(f)
    run = fixture[dtype] if variant == "aegan" else fixture["variants"][variant][dtype]
    if variant == "aegan":
        model, order, state, check, result = replay_aegan(fixture, run, dtype)
    else:
        model, order, state, check, result = replay_ogan(fixture, run, variant, dtype)
    weights = {}
    for net, pairs in order.items():
        values = _variable_values(model, state, net)
        by_position = {position: values[var.path] for var, position in pairs}
        for key, summary in run["weights_after"].items():
            if key.split("/")[0] == net:
                a = np.asarray(by_position[int(key.split("/")[1])], np.float64)
                weights[key] = {"shape": list(a.shape), "sum": float(a.sum()), "l2": float(np.sqrt((a * a).sum())),
                                "values": [float(v) for v in a.ravel()[summary["positions"]]]}
    params = {n: int(sum(np.prod(v.shape) for v in m.trainable_variables)) for n, m in model.nets.items()}
    result.update(backend=keras.backend.backend(), dtypes=check, params=params, weights_after=weights)
    with open(out, "w") as f:
        json.dump(result, f)


def _variable_values(model, state, net):
    """{variable path: its value in state}: weights under params, BatchNorm statistics under buffers."""
    m = model.nets[net]
    return {**{v.path: a for v, a in zip(m.trainable_variables, state["params"][net])},
            **{v.path: a for v, a in zip(m.non_trainable_variables, state["buffers"][net])}}


def _dtypes(state):
    return sorted({str(np.asarray(a).dtype) for group in ("params", "optimizers")
                   for a in keras.tree.flatten(state[group]) if np.asarray(a).dtype.kind == "f"})


def _floats(u):
    return float(u) if np.ndim(u) == 0 else [float(v) for v in u]


if __name__ == "__main__":
    main(*sys.argv[1:])
