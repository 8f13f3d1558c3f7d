"""Load settings from flags, environment and the TOML file, turning every problem into one line."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from perptui.config import paths
from perptui.config.settings import Settings, _file_values
from perptui.config.urls import mask_url
from perptui.domain.errors import ConfigError

SECRET_KEYS = frozenset({"api_key", "api_secret", "api_password"})
#: ``[alerts]`` keys holding notification URLs: secrets too (tokens live in them).
NOTIFY_KEYS = frozenset({"notify", "notify_critical", "notify_warning", "notify_info"})
#: Variables with the PERPTUI_ prefix that are not settings.
OTHER_ENV = frozenset({paths.CONFIG_ENV})


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
    warn: Callable[[str], None] | None = None,
) -> Settings:
    """Effective settings. ``overrides`` are CLI values keyed by field (dotted for sections: ``demo.seed``);
    ``flag_names`` maps those keys to the flag the user typed, for error messages; ``warn`` receives
    one-line warnings (a config file holding a secret that other users can read)."""
    check_env_names()
    path = config_path or paths.config_file()
    if config_path is None and os.environ.get(paths.CONFIG_ENV) and _absent(path):
        raise ConfigError(
            f"environment variable {paths.CONFIG_ENV} names {path}, which does not exist: create it with "
            f"'perptui config --init', or unset it to use {paths.config_dir() / 'config.toml'}"
        )
    file_values = read_config_file(path)
    if warn is not None and (message := secret_file_warning(path, file_values)):
        warn(message)
    init = _nest({k: v for k, v in (overrides or {}).items() if v is not None})
    token = _file_values.set(file_values)
    try:
        return Settings(**init)
    except ValidationError as exc:
        raise _config_error(exc, init, file_values, path, flag_names or {}) from None
    finally:
        _file_values.reset(token)


def _absent(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:
        return False  # reading it says why


def check_env_names(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a ``PERPTUI_*`` variable that sets nothing (``PERPTUI_BOGUS``, ``PERPTUI_DEMO_SEED``), as an
    unknown key inside a section is refused: a typo must not leave a setting silently at its default."""
    names = Settings.model_fields
    for name in sorted(os.environ if environ is None else environ):
        upper = name.upper()
        if not upper.startswith("PERPTUI_") or upper in OTHER_ENV:
            continue
        head, nested, _ = upper.removeprefix("PERPTUI_").partition("__")
        field = names.get(head.lower())
        if field is not None and (not nested or _is_table(field.annotation)):
            continue
        sections = [n for n, f in names.items() if _is_table(f.annotation)]
        scalars = [n for n in names if n not in sections]
        raise ConfigError(
            f"unknown environment variable {name}: perptui reads {paths.CONFIG_ENV}, PERPTUI_<SETTING> for "
            f"{', '.join(scalars)}, and PERPTUI_<SECTION>__<KEY> for {', '.join(sections)} "
            "(e.g. PERPTUI_DEMO__SEED)"
        )


def _is_table(annotation: Any) -> bool:
    return (
        annotation is dict
        or getattr(annotation, "__origin__", None) is dict
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    )


def secret_file_warning(path: Path, file_values: Mapping[str, Any]) -> str | None:
    """A warning when ``path`` holds an API credential or a notification URL and users other than its
    owner may read it."""
    held = [key for key in sorted(SECRET_KEYS) if file_values.get(key)]
    alerts = file_values.get("alerts")
    if isinstance(alerts, Mapping):
        held += [f"alerts.{key}" for key in sorted(NOTIFY_KEYS) if alerts.get(key)]
    if not held:
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"config file {path} holds {', '.join(held)} and other users can read it (mode {mode:04o}): "
        f"run 'chmod 600 {path}', or move them to the environment (PERPTUI_API_KEY, PERPTUI_API_SECRET, "
        "PERPTUI_ALERTS__NOTIFY ...)"
    )


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        target = nested
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return nested


def _child(node: Any, part: str) -> tuple[bool, Any]:
    """``node[part]`` of a table, or of a list when ``part`` is an index (``alerts.rules.0``)."""
    if isinstance(node, Mapping):
        return (True, node[part]) if part in node else (False, None)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return True, node[int(part)]
    return False, None


def _lookup(tree: Mapping[str, Any], loc: tuple[str, ...]) -> Any:
    node: Any = tree
    for part in loc:
        found, node = _child(node, part)
        if not found:
            return None
    return node


def _has(tree: Mapping[str, Any], loc: tuple[str, ...]) -> bool:
    node: Any = tree
    for part in loc:
        found, node = _child(node, part)
        if not found:
            return False
    return True


def _env_name(loc: tuple[str, ...]) -> str | None:
    """The variable that set ``loc``: its own, the first one inside it (a whole section), or the one of
    an enclosing section given as JSON (``PERPTUI_RISK='{"bogus": 1}'``)."""
    names = sorted(os.environ)
    for depth in range(len(loc), 0, -1):
        wanted = ("PERPTUI_" + "__".join(loc[:depth])).upper()
        exact = next((name for name in names if name.upper() == wanted), None)
        found = exact or next((name for name in names if name.upper().startswith(wanted + "__")), None)
        if found is not None:
            return found
    return None


def _config_error(
    exc: ValidationError,
    init: Mapping[str, Any],
    file_values: Mapping[str, Any],
    path: Path,
    flag_names: Mapping[str, str],
) -> ConfigError:
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    if error["type"] == "insecure_url":
        loc = ("api_base_url",)  # raised by the model, about this field
        env = os.environ.get(_env_name(loc) or "")
        error["input"] = _lookup(init, loc) or env or _lookup(file_values, loc)
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
    secret = loc[-1] in SECRET_KEYS or any(part in NOTIFY_KEYS for part in loc)
    value = "" if secret or isinstance(raw, dict) or loc[-1] == "rules" else f" {raw!r}"
    if loc[-1] == "api_base_url":
        value = mask_url(value)
    return ConfigError(f"bad value{value} for {key} in {where}: {accepted}")


def _known_keys(section: tuple[str, ...]) -> str:
    model: type[BaseModel] = Settings
    for part in section:
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return ", ".join(model.model_fields)
