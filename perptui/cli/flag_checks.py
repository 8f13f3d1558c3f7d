"""Checks of flags against the settings they end up in, made before a command opens the cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError

if TYPE_CHECKING:
    from perptui.config.settings import Settings


def check_flags(settings: Settings, flags: dict[str, str]) -> Settings:
    """``settings`` when the flags typed make sense for them; a one-line UsageError otherwise."""
    if "testnet" in flags and not settings.exchange:
        raise UsageError(
            "--testnet needs an exchange that has a testnet (e.g. --exchange bybit --testnet): the built-in "
            "demo market has none"
        )
    if "api_base_url" in flags and not settings.exchange:
        raise UsageError(
            "--api-base-url needs an exchange (e.g. --exchange bybit --api-base-url https://relay.example): "
            "the built-in demo market has no REST API"
        )
    return settings
