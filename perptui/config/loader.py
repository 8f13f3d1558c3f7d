"""Load settings from flags, environment and the TOML file, turning every problem into one line."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from perptui.config import paths
from perptui.config.settings import Settings, _file_values
from perptui.domain.errors import ConfigError

SECRET_KEYS = frozenset({"api_key", "api_secret", "api_password"})


def read_config_file(path: Path) -> dict[str, Any]:
    """The file's tables, or {} when it does not exist. Unreadable or invalid TOML is a ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; it must be a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Effective settings. ``overrides`` are CLI values keyed by field (dotted for sections: ``demo.seed``);
    ``flag_names`` maps those keys to the flag the user typed, for error messages."""
    path = config_path or paths.config_file()
    file_values = read_config_file(path)
    init = _nest({k: v for k, v in (overrides or {}).items() if v is not None})
    token = _file_values.set(file_values)
    try:
        return Settings(**init)
    except ValidationError as exc:
        raise _config_error(exc, init, file_values, path, flag_names or {}) from None
    finally:
        _file_values.reset(token)


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return nested


def _has(tree: Mapping[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = tree
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _env_name(loc: tuple[str, ...]) -> str | None:
    """The variable that set ``loc``; for a whole section, the first variable inside it."""
    wanted = ("PERPTUI_" + "__".join(loc)).upper()
    names = sorted(os.environ)
    exact = next((name for name in names if name.upper() == wanted), None)
    return exact or next((name for name in names if name.upper().startswith(wanted + "__")), None)


def _config_error(
    exc: ValidationError,
    init: Mapping[str, Any],
    file_values: Mapping[str, Any],
    path: Path,
    flag_names: Mapping[str, str],
) -> ConfigError:
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc)
    if _has(init, loc):
        where = f"flag {flag_names.get(key, '--' + key.replace('_', '-'))}"
    elif (env := _env_name(loc)) is not None:
        where = f"environment variable {env}"
    elif _has(file_values, loc):
        where = f"config file {path}"
    else:
        where = "settings"
    if error["type"] == "extra_forbidden":
        return ConfigError(f"unknown setting {key!r} in {where}; known settings: {_known_keys(loc[:-1])}")
    accepted = str(error["msg"]).removeprefix("Value error, ")
    raw = error.get("input")
    value = "" if loc[-1] in SECRET_KEYS or isinstance(raw, dict) else f" {raw!r}"
    return ConfigError(f"bad value{value} for {key} in {where}: {accepted}")


def _known_keys(section: tuple[str, ...]) -> str:
    model: type[BaseModel] = Settings
    for part in section:
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return ", ".join(model.model_fields)
