"""Config values from a preset and the command line's overrides, checked before any work."""

import dataclasses

from common import UserError


class ConfigError(UserError, ValueError):
    """A configuration value that cannot work; the message names it."""


# float32, or Keras' mixed policies: float32 weights, bfloat16/float16 arithmetic in the layers.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "float64")


def require(ok, message):
    if not ok:
        raise ConfigError(message)


def from_preset(config_class, presets, preset, overrides):
    """The preset's values, then every override that is not None, type-checked and validated."""
    require(preset in presets, f"--preset must be one of {', '.join(presets)}, not {preset!r}")
    values = {**presets[preset], **{k: v for k, v in overrides.items() if v is not None}}
    defaults = {f.name: f.default for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - set(defaults))
    require(not unknown, f"unknown config key(s): {', '.join(unknown)}")
    return config_class(**{k: _typed(k, v, defaults[k]) for k, v in values.items()}).validate()


def check_precision(precision):
    require(precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def _typed(name, value, default):
    """value as the type of the field's default (an int where a float is expected is fine)."""
    number = lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: number, str: lambda v: isinstance(v, str),
          tuple: lambda v: isinstance(v, list | tuple) and all(map(number, v))}.get(type(default))
    require(ok is None or ok(value),
            f"config value {name} must be a {type(default).__name__ if type(default) is not tuple else 'list of numbers'}"
            f", not {value!r}")
    return tuple(value) if isinstance(default, tuple) else float(value) if isinstance(default, float) else value


def read_file(path):
    """The values of a JSON config file ({"field": value, ...})."""
    import json

    try:
        with open(path) as f:
            values = json.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file does not exist: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    require(isinstance(values, dict), f"config file {path} must hold one JSON object of field: value")
    return values
