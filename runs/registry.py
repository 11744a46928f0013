"""Every model by name: its config, its presets, its class and the script that trains it.

Scripts, benchmarks and tests choose a model here and nowhere else. A model's config names
its entry (its `model` field), so a checkpoint's saved config rebuilds the model it came from.
Adding a model is one `register` call (below, or in a test) and the model's own package.
"""

import dataclasses
import importlib

from common import UserError
from common.config import from_preset


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str  # --model / --models
    config_class: type  # a dataclass with a `model` field, validated by its `validate()`
    presets: dict  # preset name -> config values over the config's defaults
    model_class: str  # "package.module:Class", imported when the model is built
    script: str  # the training script under experiments/ whose flags set this config
    in_benchmark: bool = True  # among mode_collapse.py's default --models
    about: str = ""

    def make_config(self, preset, **overrides):
        """The preset's values, then every override that is not None; validated."""
        return from_preset(self.config_class, self.presets, preset, {**overrides, "model": self.name})

    def build(self, cfg):
        module, _, name = self.model_class.partition(":")
        return getattr(importlib.import_module(module), name)(cfg)


MODELS = {}


def register(entry):
    """Add an entry (a name already taken is refused); returns it."""
    if entry.name in MODELS:
        raise ValueError(f"a model named {entry.name!r} is registered already")
    MODELS[entry.name] = entry
    return entry


def unregister(name):
    del MODELS[name]


def names(script=None, in_benchmark=None):
    """The registered names, in registration order; those of one training script, or those in
    (or out of) the mode-collapse benchmark's default, where given."""
    return [n for n, e in MODELS.items() if (script is None or e.script == script)
            and (in_benchmark is None or e.in_benchmark == in_benchmark)]


def get(name, script=None):
    """The entry of `name`; a UserError naming the choices when there is none (or, with
    `script`, when another script trains it)."""
    choices = names(script)
    if name not in choices:
        raise UserError(f"--model must be one of {', '.join(choices)}, not {name!r}")
    return MODELS[name]


def build(cfg):
    """The model a config describes (its `model` field names the entry)."""
    return get(cfg.model).build(cfg)


def entry_of_checkpoint(config, class_name=None):
    """The entry a checkpoint's saved config (and the model class its meta records) came from.
    O-GAN's configs named no model before they had a `model` field: their class name does."""
    if "model" in config:
        return get(config["model"])
    found = [e for e in MODELS.values() if e.model_class.rpartition(":")[2] == class_name]
    if len(found) != 1:
        raise UserError(f"the checkpoint names no model this code knows (class {class_name!r})")
    return found[0]


def _register_the_papers_models():
    from aegan import config as aegan
    from ogan import config as ogan

    for name, cls, in_benchmark, about in (
            ("gan", "GAN", True, "the GAN baseline: AEGAN's G and Dx alone"),
            ("aae", "AAE", True, "the AAE baseline: AEGAN's G, E and Dz"),
            ("aegan", "AEGAN", True, "AEGAN: G, E, Dx and Dz (Lazarou, 2020)"),
            ("gan-simultaneous", "SimultaneousGAN", False,
             "a diagnostic: the GAN with D and G updated from the same weights, as PacGAN's code does")):
        register(Entry(name, aegan.AEGANConfig, aegan.PRESETS, f"aegan.models:{cls}", "aegan_anime",
                       in_benchmark, about))
    register(Entry("ogan", ogan.OGANConfig, ogan.PRESETS, "ogan.models:OGAN", "ogan_celeba", True,
                   "O-GAN: D(x) = avg(E(x)) (Su, 2019)"))


_register_the_papers_models()
