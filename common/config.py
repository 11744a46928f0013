"""Config values from a preset and the command line's overrides, checked before any work."""

import dataclasses

from common import UserError


class ConfigError(UserError, ValueError):
    """A configuration value that cannot work; the message names it."""


def require(ok, message):
    if not ok:
        raise ConfigError(message)


def from_preset(config_class, presets, preset, overrides):
    """The preset's values, then every override that is not None, validated."""
    require(preset in presets, f"--preset must be one of {', '.join(presets)}, not {preset!r}")
    values = {**presets[preset], **{k: v for k, v in overrides.items() if v is not None}}
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(config_class)})
    require(not unknown, f"unknown config key(s): {', '.join(unknown)}")
    return config_class(**values).validate()
