"""Any field of the typed training configs, set by name: ``augment.rotate_deg=5``, ``loss.identity=0``.

The defaults live once, in the dataclasses (:class:`TrainConfig`, :class:`AugmentConfig`,
:class:`LossConfig`); a preset's ``train:`` section and the CLI's ``--set KEY=VALUE`` reach every field
through :func:`apply_settings` instead of repeating them. Values are checked against the field's type and
by the dataclass's own validation.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import yaml

from facecraft.errors import FacecraftError

C = TypeVar("C")

#: Fields that are not plain settings (they have their own options or are chosen by the run).
NOT_SETTABLE = frozenset({"model", "model_settings", "device"})


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["augment.warp=0.03", "loss.identity=0"]`` -> ``{"augment.warp": 0.03, "loss.identity": 0}``
    (values read as YAML scalars: numbers, true/false, null, text)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise FacecraftError(f"--set {item!r}: write KEY=VALUE, e.g. --set augment.rotate_deg=5")
        try:
            out[key.strip()] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = text
    return out


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"augment": {"warp": 0.03}}`` -> ``{"augment.warp": 0.03}`` (a preset's nested sections)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def apply_settings(config: C, values: Mapping[str, Any], *, only_defaults: bool = False) -> C:
    """A copy of the dataclass ``config`` with the dotted ``values`` set. ``only_defaults``: leave fields the
    caller already changed from their default alone (how a preset's values yield to explicit ones)."""
    for key, value in flatten(values).items():
        config = _set(config, key.split("."), value, key, only_defaults)
    return config


def settable(config: Any, prefix: str = "") -> list[str]:
    """Every dotted name :func:`apply_settings` accepts on ``config``."""
    out = []
    for f in dataclasses.fields(config):
        if not prefix and f.name in NOT_SETTABLE:
            continue
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out += settable(value, f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


def _set(obj: Any, path: list[str], value: Any, key: str, only_defaults: bool, prefix: str = "") -> Any:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    name = path[0]
    if name not in fields or (not prefix and name in NOT_SETTABLE):
        raise FacecraftError(f"unknown setting {key!r}; settings are: {', '.join(settable(obj, prefix))}")
    current = getattr(obj, name)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise FacecraftError(f"unknown setting {key!r}: {prefix}{name} has no parts")
        inner = _set(current, path[1:], value, key, only_defaults, f"{prefix}{name}.")
        return dataclasses.replace(obj, **{name: inner})
    if dataclasses.is_dataclass(current):
        raise FacecraftError(
            f"{key} is a group of settings; set one of: {', '.join(settable(current, key + '.'))}"
        )
    if only_defaults and current != _default(fields[name]):
        return obj
    return dataclasses.replace(obj, **{name: _coerce(value, typing.get_type_hints(type(obj))[name], key)})


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """``value`` as the field's type (an int is a float; None only for optional fields)."""
    options = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    if value is None:
        if type(None) in options:
            return None
        raise FacecraftError(f"{key} cannot be empty")
    for option in options:
        if option is bool:
            if isinstance(value, bool):
                return value
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif option is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        elif option is str:
            if isinstance(value, str):
                return value
        elif typing.get_origin(option) in (tuple, list) and isinstance(value, list | tuple):
            return typing.get_origin(option)(value)
    names = " or ".join(getattr(o, "__name__", str(o)) for o in options)
    raise FacecraftError(f"{key} must be {names}, got {value!r}")
