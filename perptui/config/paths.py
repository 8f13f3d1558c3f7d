"""Where perptui keeps its files. Resolved only when asked, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "perptui"
CONFIG_ENV = "PERPTUI_CONFIG"


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    """The TOML config file: ``$PERPTUI_CONFIG`` when set, else ``config.toml`` in the user config dir."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override).expanduser() if override else config_dir() / "config.toml"


def default_db_file() -> Path:
    return data_dir() / "perptui.db"
