"""The run layer, above the model packages: every model by name (`registry`), training a model
into a run folder (`training`) and loading one (`loading`).

    from runs import load_run
    model, state, meta = load_run("results/pretrained/aegan-anime-small")
"""

from runs.loading import load_run, model_from_config
from runs.training import fit, fit_batched, load_split

__all__ = ["fit", "fit_batched", "load_run", "load_split", "model_from_config"]
