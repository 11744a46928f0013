"""Loading a run folder: the model its newest checkpoint describes, and that checkpoint's state."""

import os


def model_from_config(config, class_name=None):
    """Rebuild the model a checkpoint's saved config describes (`class_name`, the model class its
    meta records, names it where the config does not)."""
    import dataclasses

    from common import UserError
    from runs import registry

    entry = registry.entry_of_checkpoint(config, class_name)
    known = {f.name for f in dataclasses.fields(entry.config_class)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise UserError(f"the checkpoint's config has keys this code does not know ({', '.join(unknown)}): "
                        "was it made by a newer version?")
    return entry.build(entry.config_class(**{**config, "model": entry.name}).validate())


def load_run(run_dir):
    """(model, state, meta) from a run folder's newest readable checkpoint."""
    from common import UserError, checkpoint

    ckpt_dir = os.path.join(run_dir, "checkpoints")
    if not os.path.isdir(run_dir):
        raise UserError(f"run folder does not exist: {run_dir}")
    latest = checkpoint.load_latest(ckpt_dir)
    if latest is None:
        raise UserError(f"no checkpoint in {ckpt_dir}: is {run_dir} a training run's folder?")
    path, meta, flat = latest
    model = model_from_config(meta["config"], meta.get("model"))
    if meta.get("weights_only"):  # experiments/export_weights.py: the sampling networks alone
        state = checkpoint.restore_weights(flat, model.initial_state(), meta["weights_only"])
    else:
        state = checkpoint.unflatten(flat, model.state_template())
    return model, state, {**meta, "checkpoint": path}
