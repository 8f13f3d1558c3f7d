"""The exchange's account, read-only, through real ccxt on the loopback Binance exchange (real data from
../shared/data/binance): positions and balance with the same metrics, historical VaR against an
independent computation on the real daily returns, only signed GET reads, the CLI's JSON."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.config.loader import load_settings
from perptui.config.settings import Settings
from perptui.domain.account import DAY_MS, day_start
from perptui.domain.liquidation import liquidation_price
from perptui.domain.tiers import maintenance_margin
from perptui.services.clock import FrozenClock
from perptui.services.risk import RiskContext, build_report, open_context, refresh_inputs
from perptui.services.risk.report import POSITION_KEYS, REPORT_KEYS
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

loopback_real = fixtures.loopback_real

KEY, SECRET = "loopback-key-risk", "loopback-secret-risk"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def exchange_settings(server: LoopbackExchange, **extra: object) -> Settings:
    return load_settings(
        {
            "account": "exchange",
            "exchange": "binanceusdm",
            "api_base_url": server.base_url,
            "api_key": KEY,
            "api_secret": SECRET,
            "network.backoff_s": 0.01,
            **extra,
        },
        {},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def refreshed(server: LoopbackExchange, store: Store) -> RiskContext:
    settings = exchange_settings(server)
    clock = FrozenClock(server.source.now_ms())
    ctx = open_context(settings, store, clock)

    async def go() -> None:
        source = open_market_data(settings, store, clock)
        try:
            await refresh_inputs(ctx, source)
        finally:
            await source.close()

    asyncio.run(go())
    return ctx


def test_exchange_positions_with_the_same_metrics(loopback_real: LoopbackExchange, store: Store) -> None:
    loopback_real.account.positions.append(
        {"symbol": "ETHUSDT", "positionAmt": "-0.5", "entryPrice": "2000.0", "markPrice": "2100.0",
         "leverage": "5", "marginType": "isolated", "positionSide": "BOTH"}
    )  # fmt: skip
    ctx = refreshed(loopback_real, store)
    assert ctx.live and ctx.read is not None
    report = build_report(ctx, garch=False)
    assert (report.kind, report.account, report.currency) == ("exchange", "binanceusdm", "USDT")
    by_symbol = {p.symbol: p for p in report.positions}
    assert set(by_symbol) == {BTC, ETH}
    btc, eth = by_symbol[BTC], by_symbol[ETH]
    rates = ctx.read.rates
    # The mark is the live one (premium index), not the position's stale markPrice.
    assert btc.mark == rates[BTC].mark and eth.mark == rates[ETH].mark
    assert (btc.side, btc.qty, btc.entry, eth.side, eth.qty) == ("long", 0.01, 60_000.0, "short", 0.5)
    assert btc.upnl == pytest.approx(0.01 * (btc.mark - 60_000))
    assert eth.upnl == pytest.approx(-0.5 * (eth.mark - 2_000))
    # Wallet = the balance's total (the exchange's equity at ITS marks) less the PnL it reports; the
    # equity is that wallet plus the PnL at the live marks.
    total = ctx.read.balance.total
    assert total == pytest.approx(1_000 + 0.01 * (61_000 - 60_000) - 0.5 * (2_100 - 2_000))
    assert report.portfolio.wallet_balance == pytest.approx(1_000.0)
    assert report.portfolio.equity == pytest.approx(1_000.0 + btc.upnl + eth.upnl)
    assert (ctx.read.positions[1].margin_mode, ctx.read.positions[0].margin_mode) == ("isolated", "cross")
    # Liquidation: the domain formula with the market's brackets; the isolated ETH against its margin,
    # the cross BTC against the cross wallet (the wallet less the isolated margin).
    eth_margin = ctx.read.positions[1].initial_margin
    eth_tiers = ctx.markets[ETH].tiers
    liq = liquidation_price("short", 0.5, 2_000.0, eth_margin, eth_tiers)
    assert eth.liq_price == pytest.approx(liq.price)
    cross = report.portfolio.wallet_balance - eth_margin
    btc_liq = liquidation_price("long", 0.01, 60_000.0, cross, ctx.markets[BTC].tiers)
    assert btc_liq.price is None and btc.liq_price is None and btc.never_liquidated  # ~790 covers 0.01 BTC
    assert btc.maintenance_margin == pytest.approx(maintenance_margin(ctx.markets[BTC].tiers, btc.notional))
    assert eth.next_funding == pytest.approx(
        0.5 * eth.mark * rates[ETH].rate
    )  # a short receives a positive rate

    # Daily candles came through ccxt, closed bars only; the sigma distance uses their EWMA vol.
    bars = store.load_ohlcv("binanceusdm", ETH, "1d")
    assert len(bars) >= 300 and bars[-1].time < day_start(ctx.now())
    vol = next(v for v in report.volatility if v.symbol == ETH).ewma
    assert vol is not None and eth.liq_distance is not None
    assert eth.liq_distance_sigma == pytest.approx(eth.liq_distance / vol)

    # Historical VaR against an independent computation on the real daily returns.
    until = day_start(ctx.now())
    closes = {
        s: {b.time: b.close for b in store.load_ohlcv("binanceusdm", s, "1d") if b.time < until}
        for s in (BTC, ETH)
    }
    rets = {
        s: {t: c / cl[t - DAY_MS] - 1 for t, c in cl.items() if t - DAY_MS in cl} for s, cl in closes.items()
    }
    days = sorted(set(rets[BTC]) & set(rets[ETH]))[-365:]
    w = {BTC: btc.notional, ETH: -eth.notional}
    losses = sorted((-sum(w[s] * rets[s][d] for s in w) for d in days), reverse=True)
    k = math.ceil(len(days) * 0.05)
    assert report.historical.observations == len(days) >= 300
    assert report.historical.var_95 == pytest.approx(losses[k - 1])
    assert report.historical.cvar_95 == pytest.approx(sum(losses[:k]) / k)

    data = report.as_dict()
    assert tuple(data) == REPORT_KEYS and all(tuple(p) == POSITION_KEYS for p in data["positions"])  # type: ignore[union-attr]
    assert data["pnl_today"] is None  # deposits on the exchange are not known
    # Read-only: only GETs, and the account reads signed.
    assert {r.method for r in loopback_real.requests} == {"GET"}
    account_reads = [r for r in loopback_real.requests if "positionRisk" in r.path or "balance" in r.path]
    assert account_reads and all(r.signed for r in account_reads)
    # An equity snapshot for the drawdown chart.
    assert store.load_equity("binanceusdm") == [(ctx.now(), total)]


def test_an_unreachable_exchange_keeps_the_last_read(loopback_real: LoopbackExchange, store: Store) -> None:
    ctx = refreshed(loopback_real, store)
    first = build_report(ctx, garch=False, record=False)
    loopback_real.faults.http(503, "/fapi/v2/balance", times=None)
    loopback_real.faults.http(503, "/fapi/v3/balance", times=None)
    loopback_real.faults.http(503, "/fapi/v2/account", times=None)
    loopback_real.faults.http(503, "/fapi/v3/account", times=None)
    settings = exchange_settings(loopback_real, **{"network.max_retries": 0})

    async def go() -> None:
        source = open_market_data(settings, store, ctx.clock)
        try:
            await refresh_inputs(ctx, source)
        finally:
            await source.close()

    asyncio.run(go())
    assert not ctx.live and ctx.stale is not None and "unreachable" in ctx.stale
    again = build_report(ctx, garch=False, record=False)
    assert again.as_dict() == first.as_dict() and ctx.stale in again.notes


def test_cli_reads_the_exchange_account_read_only(
    loopback_real: LoopbackExchange,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    # The command's clock at the loopback's time: the history window must end where the data does, not
    # wherever the wall clock is (VaR needs enough days of returns inside the last 365).
    at_data_end = FrozenClock(loopback_real.source.now_ms())
    monkeypatch.setattr("perptui.services.sources.clock_for", lambda settings: at_data_end)
    argv = ["risk", "--exchange", "binanceusdm", "--api-base-url", loopback_real.base_url]
    code, line = run_error(capsys, *argv, "--json")
    assert code == 2 and "needs API keys" in line and loopback_real.requests == []
    monkeypatch.setenv("PERPTUI_API_KEY", KEY)
    monkeypatch.setenv("PERPTUI_API_SECRET", SECRET)
    code, line = run_error(capsys, *argv, "--offline")
    assert code == 2 and "drop --offline" in line and loopback_real.requests == []
    data = run_json(capsys, *argv, "--json")
    assert tuple(data) == REPORT_KEYS
    (pos,) = data["positions"]
    assert (pos["symbol"], pos["side"], pos["qty"], pos["entry"]) == (BTC, "long", 0.01, 60_000.0)
    assert data["equity"] == pytest.approx(data["wallet_balance"] + data["unrealized_pnl"])
    assert data["var_95_1d"] > 0 and data["circuit_breaker"]["tripped"] is False
    assert {r.method for r in loopback_real.requests} == {"GET"}
