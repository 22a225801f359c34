"""Strict, typed configuration: frozen dataclasses with defaults in code, YAML overrides.

A YAML file holds overrides only. Loading is strict: an unknown key, a value of the wrong
type or an out-of-range value raises ConfigError naming the dotted key and the file. Dotted
command-line overrides (``env.num_envs=2048``) are parsed as YAML scalars and checked the
same way.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key and the source."""


def check(condition: bool, field_name: str, message: str) -> None:
    """Raise ConfigError for ``field_name`` unless ``condition`` holds (used in __post_init__)."""
    if not condition:
        raise ConfigError(f"{field_name}: {message}")


_EXPONENT_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in the dataclass's form."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    where = f"{key!r} in {source}"
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {tp.__name__} fields, got {value!r}")
        return _build(tp, value, key, source, base=None)
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: {value!r} is not one of {choices}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, source)
            except ConfigError as err:
                errors.append(str(err))
        if len(errors) == 1:
            raise ConfigError(errors[0])
        raise ConfigError(f"{where}: {value!r} fits none of {tp}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{key}[{i}]", source) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        pairs = enumerate(zip(value, args, strict=True))
        return tuple(_coerce(v, a, f"{key}[{i}]", source) for i, (v, a) in pairs)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = args if args else (str, Any)
        return {
            _coerce(k, kt, key, source): _coerce(v, vt, f"{key}.{k}", source)
            for k, v in value.items()
        }
    if tp is float:
        # PyYAML follows YAML 1.1, which reads "2e-4" (no dot) as a string; take it as a number.
        if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(value.strip()):
            return float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def _build(cls: type[T], values: Mapping[str, Any], prefix: str, source: str, base: T | None) -> T:
    """Make ``cls`` from ``base`` (or its defaults) with ``values`` applied, strictly."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in fields:
            raise ConfigError(
                f"unknown key {key!r} in {source}; {cls.__name__} has: {', '.join(sorted(fields))}"
            )
        tp = hints[name]
        current = getattr(base, name) if base is not None else None
        if dataclasses.is_dataclass(tp) and isinstance(value, Mapping):
            if current is None:
                current = fields[name].default_factory()  # type: ignore[misc]
            kwargs[name] = _build(tp, value, key, source, base=current)
        else:
            kwargs[name] = _coerce(value, tp, key, source)
    try:
        if base is None:
            return cls(**kwargs)
        return dataclasses.replace(base, **kwargs)
    except ConfigError as err:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"{where}{err} (in {source})") from None


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``a.b=value``; the value is read as a YAML scalar or list."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part.isidentifier() for part in key.split(".")):
        raise ConfigError(f"override {text!r}: {key!r} is not a dotted key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"override {text!r}: cannot read the value ({err})") from None
    return key, value


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(data).__name__}")
    return dict(data)


def load(
    cls: type[T],
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    base: T | None = None,
) -> T:
    """Defaults of ``cls`` (or ``base``), then the YAML file, then dotted overrides."""
    config = base if base is not None else cls()
    if path is not None:
        config = _build(cls, read_yaml(path), "", str(path), base=config)
    for text in overrides:
        key, value = parse_override(text)
        config = _build(cls, _nest(key, value), "", f"override {text!r}", base=config)
    return config


def to_dict(config: Any) -> Any:
    """A plain, YAML-friendly form of a config (tuples become lists)."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, tuple | list):
        return [to_dict(v) for v in config]
    if isinstance(config, Mapping):
        return {k: to_dict(v) for k, v in config.items()}
    return config


def from_dict(cls: type[T], data: Mapping[str, Any], source: str = "<dict>") -> T:
    """Rebuild a config from ``to_dict`` output, strictly."""
    return _build(cls, data, "", source, base=None)
