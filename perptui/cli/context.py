"""What every command needs: the effective settings, the store, the market data source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from perptui.config.loader import load_settings
from perptui.config.paths import default_db_file
from perptui.domain.errors import ExchangeUnavailable, PerptuiError, UsageError
from perptui.presentation.numbers import staleness
from perptui.services.clock import SystemClock

from .flag_checks import check_flags

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.live_or_cache import Deadline
    from perptui.services.store import Store

#: argparse dest -> settings key, and the flag a user typed (for error messages).
FLAG_SETTINGS = {
    "exchange": ("exchange", "--exchange"),
    "api_base_url": ("api_base_url", "--api-base-url"),
    "offline": ("offline", "--offline"),
    "db": ("db", "--db"),
    "testnet": ("testnet", "--testnet"),
}


def settings_from_args(args: argparse.Namespace, *, check: bool = True) -> Settings:
    """The effective settings with the data-source flags over them; ``check`` refuses flags that make
    no sense for the result (``--testnet`` on the demo ...), left to the caller when it picks the
    exchanges itself (``scan --exchange A B``)."""
    overrides = {}
    flags = {}
    for dest, (key, flag) in FLAG_SETTINGS.items():
        value = getattr(args, dest, None)
        if value not in (None, False):
            overrides[key] = value
            flags[key] = flag
    settings = load_settings(overrides, flags, warn=_warn)
    return check_flags(settings, flags) if check else settings


def _warn(message: str) -> None:
    sys.stderr.write(f"perptui: warning: {message}\n")
    sys.stderr.flush()


def db_path(settings: Settings):
    return settings.db or default_db_file()


def check_db_path(path: Path) -> None:
    """A database path the user gave (--db, PERPTUI_DB, the config's ``db``) that names a folder, or
    lies under a file, is a usage error: one line, exit 2, before SQLite is asked."""
    if path.is_dir():
        raise UsageError(f"the database {path} is a folder: give --db (or PERPTUI_DB) a file path")
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UsageError(
            f"the database {path} cannot be created: {above} is a file, not a folder; give --db "
            "(or PERPTUI_DB) a path in a folder"
        )


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    from perptui.services.store import Store

    path = Path(db_path(settings))
    check_db_path(path)
    store = Store.open(path)
    store.retention = settings.cache.retention()
    try:
        yield store
    finally:
        store.close()


def unreachable(exc: PerptuiError, store: Store, exchange: str, kind: str) -> ExchangeUnavailable:
    """The exchange error plus what the cache holds, so the trader knows whether --offline will help."""
    age = store.cache_age_ms(exchange, kind, SystemClock().now_ms())
    if age is None:
        return ExchangeUnavailable(f"{exc}; the cache holds no {kind} for {exchange} yet")
    return ExchangeUnavailable(f"{exc}; cached {kind} are {staleness(age)}: add --offline to use them")


def deadline_for(settings: Settings, exchange: str | None = None) -> Deadline:
    """The command's deadline for the exchange's answers (``network.deadline_s``), starting now."""
    from perptui.services.live_or_cache import Deadline

    return Deadline(settings.network.deadline_s, exchange or settings.exchange_name)
