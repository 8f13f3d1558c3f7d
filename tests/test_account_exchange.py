"""The exchange's account, read-only, through real ccxt on the loopback Binance exchange."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from perptui.domain.account import AccountSummary
from perptui.domain.errors import AuthenticationError
from perptui.services.accounts import ExchangeAccount
from perptui.services.clock import FrozenClock
from perptui.services.exchanges import CcxtExchange
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

loopback_real = fixtures.loopback_real

KEY, SECRET = "loopback-key-account", "loopback-secret-account"
T = TypeVar("T")


def exchange(server: LoopbackExchange, keys: bool = True) -> CcxtExchange:
    extra: dict[str, Any] = {"api_key": SecretStr(KEY), "api_secret": SecretStr(SECRET)} if keys else {}
    return CcxtExchange(
        "binanceusdm", api_base_url=server.base_url, backoff_base_s=0.01, max_retries=1, **extra
    )


def summary_of(account_for: Any) -> Coroutine[Any, Any, AccountSummary]:
    async def go() -> AccountSummary:
        account = account_for()
        try:
            return await account.summary()
        finally:
            await account._source.close()

    return go()


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_summary_from_balance_and_positions(loopback_real: LoopbackExchange, tmp_path: Path) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(tmp_path / "cache.db") as store:
        s = run(summary_of(lambda: ExchangeAccount(exchange(loopback_real), store=store, clock=clock)))
        assert (s.account, s.currency, s.as_of) == ("binanceusdm", "USDT", FROZEN_NOW_MS)
        # The loopback account: wallet 1,000, a 0.01 BTC long from 60,000 marked at 61,000 at 10x.
        assert (s.equity, s.free_margin, s.used_margin, s.unrealized_pnl) == (1010.0, 949.0, 61.0, 10.0)
        assert s.wallet_balance == pytest.approx(1000.0)
        assert s.leverage == pytest.approx(0.01 * 61_000 / 1010)
        assert s.maintenance_margin == pytest.approx(0.01 * 61_000 * 0.004)  # the position's maintMargin
        assert s.risk_budget == pytest.approx(10.10)
        assert (s.pnl_today, s.pnl_week) == (None, None)  # deposits on the exchange are not known
        assert store.load_equity("binanceusdm") == [(FROZEN_NOW_MS, 1010.0)]
        # A second read within the minute records no second snapshot.
        run(summary_of(lambda: ExchangeAccount(exchange(loopback_real), store=store, clock=clock)))
        assert len(store.load_equity("binanceusdm")) == 1
    # Read-only: only reads of the account were sent, every one signed.
    account_calls = [r for r in loopback_real.requests if r.path.startswith(("/fapi/v2/", "/fapi/v3/"))]
    assert account_calls and all(r.signed for r in account_calls)
    assert {r.method for r in loopback_real.requests} == {"GET"}


def test_failed_positions_leave_what_they_feed_unknown(loopback_real: LoopbackExchange) -> None:
    loopback_real.faults.http(500, "/fapi/v2/positionRisk", times=None)
    loopback_real.faults.http(500, "/fapi/v3/positionRisk", times=None)
    s = run(summary_of(lambda: ExchangeAccount(exchange(loopback_real), clock=FrozenClock(FROZEN_NOW_MS))))
    assert (s.equity, s.free_margin, s.used_margin) == (1010.0, 949.0, 61.0)
    assert (s.unrealized_pnl, s.wallet_balance, s.leverage, s.maintenance_margin) == (None, None, None, None)


def test_no_positions_mean_zero_leverage(loopback_real: LoopbackExchange) -> None:
    loopback_real.account.positions = []
    s = run(summary_of(lambda: ExchangeAccount(exchange(loopback_real), clock=FrozenClock(FROZEN_NOW_MS))))
    assert (s.equity, s.wallet_balance, s.unrealized_pnl, s.leverage) == (1000.0, 1000.0, 0.0, 0.0)


def test_without_keys_the_balance_read_is_refused(loopback_real: LoopbackExchange) -> None:
    with pytest.raises(AuthenticationError, match="needs an API key"):
        run(summary_of(lambda: ExchangeAccount(exchange(loopback_real, keys=False))))
    assert loopback_real.requests == []


def test_settings_are_per_exchange(loopback_real: LoopbackExchange) -> None:
    with Store.open(":memory:") as store:
        account = ExchangeAccount(exchange(loopback_real), store=store, clock=FrozenClock(FROZEN_NOW_MS))
        account.set_risk_pct(0.02)
        account.set_split(0.5, 0.5)
        s = run(summary_of(lambda: account))
        assert (s.risk_pct, s.neutral_pct, s.directional_pct) == (0.02, 0.5, 0.5)
        assert store.load_account_settings("paper") == {}


def test_cli_reads_the_exchange_account(
    loopback_real: LoopbackExchange,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    argv = ["account", "--exchange", "binanceusdm", "--api-base-url", loopback_real.base_url]
    code, line = run_error(capsys, *argv, "--json")
    assert code == 2 and "needs API keys" in line and loopback_real.requests == []
    monkeypatch.setenv("PERPTUI_API_KEY", KEY)
    monkeypatch.setenv("PERPTUI_API_SECRET", SECRET)
    data = run_json(capsys, *argv, "--json")
    assert (data["account"], data["equity"], data["free_margin"], data["used_margin"]) == (
        "binanceusdm",
        1010.0,
        949.0,
        61.0,
    )
    assert data["pnl_today"] is None and data["pnl_week"] is None
    code, line = run_error(capsys, *argv, "deposit", "100")
    assert code == 2 and "perptui never moves money on an exchange" in line
    assert {r.method for r in loopback_real.requests} == {"GET"}
