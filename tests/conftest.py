"""Shared fixtures. Tests that read ../shared/data skip with a reason when it is absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BINANCE_DATA = SHARED_DATA / "binance"

#: 2025-06-01T00:00:00Z: the frozen "now" of deterministic tests (over two years after the demo origin).
FROZEN_NOW_MS = 1_748_736_000_000


@pytest.fixture
def binance_data() -> Path:
    """The real Binance files of ../shared/data/binance; skips when a fresh clone has no ../shared."""
    if not BINANCE_DATA.is_dir():
        pytest.skip(f"real Binance data not present at {BINANCE_DATA} (only in the developers' checkout)")
    return BINANCE_DATA


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data not present at {SHARED_DATA} (only in the developers' checkout)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's config and data: every test gets its own dirs and env."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in list(__import__("os").environ):
        if name.startswith("PERPTUI_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def unthrottled_ccxt(monkeypatch: pytest.MonkeyPatch) -> None:
    """ccxt's rate limiter off for the test's exchanges. It spaces requests by the real exchange's request
    weights (seconds for a scan's backfill), which a loopback server does not need and no test using this
    is about; every request and answer is otherwise the same."""
    from perptui.services.exchanges import CcxtExchange

    make_exchange = CcxtExchange._make_exchange

    def unthrottled(self: CcxtExchange, options: dict[str, Any] | None = None) -> Any:
        exchange = make_exchange(self, options)
        exchange.enableRateLimit = False
        return exchange

    monkeypatch.setattr(CcxtExchange, "_make_exchange", unthrottled)
