"""`perptui config`: the effective settings (secrets masked) and the paths in use; `--init` writes a
commented default file."""

from __future__ import annotations

import argparse
import os

from rich.table import Table

from perptui.config import paths
from perptui.config.template import default_config_text, effective_settings
from perptui.domain.errors import PerptuiError

from .context import db_path, settings_from_args
from .output import out, print_json, say


def run(args: argparse.Namespace) -> int:
    config_file = paths.config_file()
    if args.init:
        return _init(config_file)
    settings = settings_from_args(args)
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
        table.add_row(key, "—" if value is None else str(value))
    out().print(table)
    absent = " (not present: defaults apply; 'perptui config --init' writes one)"
    say(f"config file: {config_file}{'' if config_file.is_file() else absent}")
    say(f"cache db:    {db}{'' if db.is_file() else ' (created on first use)'}")
    return 0


def _flatten(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _init(config_file) -> int:
    if config_file.exists():
        raise PerptuiError(
            f"{config_file} already exists; not overwriting it (edit it, or move it away first)"
        )
    config_file.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never clobber a file that appeared since the check above.
    try:
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PerptuiError(f"{config_file} already exists; not overwriting it") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(default_config_text())
    say(f"wrote {config_file}")
    return 0
