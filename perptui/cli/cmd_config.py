"""`perptui config`: the effective settings (secrets masked) and the paths in use; `--init` writes a
commented default file. An unknown ``[keymap]`` id, or a key that takes another binding's only key, is
refused here as the app would refuse it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

from rich.table import Table

from perptui.config import paths
from perptui.config.template import default_config_text, effective_settings
from perptui.domain.errors import ConfigError, PerptuiError

from .context import db_path, settings_from_args
from .output import out, print_json, say


def run(args: argparse.Namespace) -> int:
    config_file = paths.config_file()
    if args.init:
        return _init(config_file)
    settings = settings_from_args(args)
    if settings.keymap:
        from perptui.ui.factory import checked_keymap  # Textual, only when there is a keymap to check

        checked_keymap(settings.keymap)
    db = db_path(settings)
    info = {
        "settings": effective_settings(settings),
        "paths": {
            "config_file": str(config_file),
            "config_file_exists": config_file.is_file(),
            "db": str(db),
            "db_exists": db.is_file(),
        },
    }
    if args.json:
        print_json(info)
        return 0
    table = Table(title="perptui settings", title_justify="left", header_style="bold")
    table.add_column("setting")
    table.add_column("value")
    for key, value in _flatten(info["settings"]):
        if key == "exchange" and not value:
            value = "demo (the built-in demo market)"
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "—"
        table.add_row(key, "—" if value is None else str(value))
    out().print(table)
    absent = " (not present: defaults apply; 'perptui config --init' writes one)"
    say(f"config file: {config_file}{'' if config_file.is_file() else absent}")
    say(f"cache db:    {db}{'' if db.is_file() else ' (created on first use)'}")
    return 0


def _flatten(tree: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _init(config_file: Path) -> int:
    try:
        exists = config_file.exists()
    except OSError as exc:  # e.g. a folder on the way that may not be searched
        raise _cannot_create(config_file, exc.strerror or str(exc)) from None
    if exists:
        raise PerptuiError(
            f"{config_file} already exists; not overwriting it (edit it, or move it away first)"
        )
    text = default_config_text()
    try:
        # The folder and the file owner-only: the file is where API keys may go.
        config_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise _cannot_create(
            config_file, f"a file stands where its folder {config_file.parent} should be"
        ) from None
    except OSError as exc:
        raise _cannot_create(config_file, f"cannot create its folder: {exc.strerror or exc}") from None
    try:
        # O_EXCL: never clobber a file that appeared since the check above.
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PerptuiError(f"{config_file} already exists; not overwriting it") from None
    except OSError as exc:
        raise _cannot_create(config_file, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        config_file.unlink(missing_ok=True)
        raise _cannot_create(config_file, exc.strerror or str(exc)) from None
    say(f"wrote {config_file}")
    return 0


def _cannot_create(config_file: Path, reason: str) -> PerptuiError:
    """Exit 2 when PERPTUI_CONFIG (an input) names the place, else 1 (the user dirs are unwritable)."""
    if os.environ.get(paths.CONFIG_ENV):
        return ConfigError(
            f"cannot create the config file {config_file} named by {paths.CONFIG_ENV} ({reason}): "
            f"point {paths.CONFIG_ENV} at a file in a folder you can write to"
        )
    return PerptuiError(
        f"cannot create the config file {config_file} ({reason}); set {paths.CONFIG_ENV} to a writable path"
    )
