"""The commented default config file written by ``perptui config --init``, generated from the model
so it can never drift from the settings it documents."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, SecretStr

from perptui.config.field_docs import field_docs
from perptui.config.settings import Settings
from perptui.config.urls import mask_target, mask_url

#: Commented examples shown instead of a list's empty default.
_EXAMPLES: dict[str, list[str]] = {
    "notify": ['# notify = ["ntfy://ntfy.sh/my-secret-topic", "tgram://bottoken/chatid"]'],
    "rules": [
        "# rules = [",
        '#   { id = "btc-60k", kind = "price_below", threshold = 60000, symbol = "BTC", severity = "info" },',
        '#   { id = "funding-z", kind = "funding_z", threshold = 3, quiet_hours = "22:00-08:00" },',
        '#   { id = "no-stop", muted = true },',
        "# ]",
    ],
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _field_lines(model: type[BaseModel], instance: BaseModel) -> list[str]:
    lines: list[str] = []
    docs = field_docs(model)
    for name in model.model_fields:
        value = getattr(instance, name)
        if isinstance(value, BaseModel | dict):
            continue
        lines.extend(f"# {line.strip()}" for line in docs.get(name, name).splitlines())
        if name in _EXAMPLES and not value:
            lines.extend(_EXAMPLES[name])
        elif value is None or isinstance(value, SecretStr):
            lines.append(f'# {name} = ""')
        else:
            lines.append(f"# {name} = {_toml_value(value)}")
        lines.append("")
    return lines


def default_config_text() -> str:
    defaults = Settings.model_construct()
    out = [
        "# perptui configuration. Uncomment a line to change it.",
        "# Precedence: command-line flags > PERPTUI_* environment variables > this file > defaults.",
        "# Nested keys in the environment use __, e.g. PERPTUI_DEMO__SEED=11.",
        "",
        *_field_lines(Settings, defaults),
    ]
    docs = field_docs(Settings)
    for name in Settings.model_fields:
        section = getattr(defaults, name)
        if isinstance(section, BaseModel):
            out.append(f"[{name}]")
            out.extend(_field_lines(type(section), section))
        elif isinstance(section, dict):
            out += [f"[{name}]", f"# {docs.get(name, name)}", '# quit = "ctrl+q"', ""]
    return "\n".join(out).rstrip() + "\n"


def effective_settings(settings: Settings) -> dict[str, Any]:
    """Every setting as plain JSON-able values, secrets masked (``"***"`` when set, null when not), as
    are the credentials in a URL (``https://***@relay.example``) and notification URLs but for their
    scheme (``ntfy://***``)."""

    def dump(model: BaseModel) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                result[name] = dump(value)
            elif isinstance(value, SecretStr):
                result[name] = "***" if value.get_secret_value() else None
            elif isinstance(value, list) and any(isinstance(item, SecretStr) for item in value):
                result[name] = [mask_target(item.get_secret_value()) for item in value]
            elif isinstance(value, str):
                result[name] = mask_url(value) if name.endswith("_url") else value
            elif value is None or isinstance(value, bool | int | float):
                result[name] = value
            elif isinstance(value, list | dict):
                result[name] = json.loads(json.dumps(value, default=str))
            else:
                result[name] = str(value)
        return result

    return dump(settings)
