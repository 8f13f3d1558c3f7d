"""The risk service on the demo market: paper positions opened through the engine, figures checked against
the domain functions and an independent computation here, the JSON shape, candles fetched once, GARCH
fitted once per daily bar, offline from the cache."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perptui.config.loader import load_settings
from perptui.domain.account import DAY_MS, day_start
from perptui.domain.risk_position import position_risk
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.paper import OrderRequest, PaperEngine, open_engine
from perptui.services.risk import RiskContext, build_report, garch_cache, open_context, refresh_inputs
from perptui.services.risk.report import POSITION_KEYS, REPORT_KEYS
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

BTC = "BTCDEMO/USDT:USDT"
ETH = "ETHDEMO/USDT:USDT"
NOW = FROZEN_NOW_MS + 10 * 3_600_000  # 2025-06-01T10:00Z


class CountingSource:
    """The demo market, counting the calls that reach it (the demo market is not ccxt: wrapping is fine)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.inner = DemoExchange(seed=7, clock=clock)
        self.calls: list[str] = []
        self.name = self.inner.name

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return await attr(*args, **kwargs)

        return call


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def setup(store: Store, clock: FrozenClock, **risk: float) -> tuple[RiskContext, CountingSource, PaperEngine]:
    settings = load_settings({f"risk.{k}": v for k, v in risk.items()}, {})
    source = CountingSource(clock)
    markets = asyncio.run(source.inner.load_markets())
    engine = open_engine(settings, store, clock, markets)
    return open_context(settings, store, clock, engine=engine), source, engine


def open_positions(ctx: RiskContext, source: CountingSource, engine: PaperEngine) -> None:
    rates = asyncio.run(source.inner.fetch_funding_rates([BTC, ETH]))
    engine.place_order(OrderRequest(BTC, "long", 0.05, leverage=20, mark=rates[BTC].mark))
    engine.place_order(OrderRequest(ETH, "short", 1.0, leverage=5, mark=rates[ETH].mark))


def closes_of(store: Store, symbol: str, now: int) -> dict[int, float]:
    """Closed daily bars of the last 366 days, read straight from the cache."""
    until = day_start(now)
    return {
        c.time: c.close
        for c in store.load_ohlcv("demo", symbol, "1d")
        if until - 366 * DAY_MS <= c.time < until
    }


def returns_of(closes: dict[int, float]) -> dict[int, float]:
    return {t: c / closes[t - DAY_MS] - 1 for t, c in closes.items() if t - DAY_MS in closes}


def ewma_var_by_recursion(r: list[float], lam: float = 0.94) -> float:
    s2 = r[0] ** 2
    for x in r[1:]:
        s2 = lam * s2 + (1 - lam) * x * x
    return s2


def test_report_on_paper_positions_matches_the_domain_and_an_independent_var(
    store: Store, clock: FrozenClock
) -> None:
    ctx, source, engine = setup(store, clock)
    open_positions(ctx, source, engine)
    asyncio.run(refresh_inputs(ctx, source))
    assert ctx.live and ctx.stale is None
    report = build_report(ctx, garch=False)

    # The candles: 400 closed daily bars each, never today's open bar.
    for symbol in (BTC, ETH):
        bars = store.load_ohlcv("demo", symbol, "1d")
        assert len(bars) == 400 and bars[-1].time == day_start(NOW) - DAY_MS

    # Per position: the domain's metrics with the EWMA daily vol of the cached closes.
    vols = {}
    for symbol in (BTC, ETH):
        r = list(returns_of(closes_of(store, symbol, NOW)).values())[-365:]
        vols[symbol] = math.sqrt(ewma_var_by_recursion(r))
    expected = {
        i.symbol: position_risk(replace(i, daily_vol=vols[i.symbol])) for i in engine.position_inputs()
    }
    assert {p.symbol for p in report.positions} == {BTC, ETH}
    for p in report.positions:
        e = expected[p.symbol]
        assert (p.mark, p.liq_price, p.margin_ratio, p.next_funding) == (
            e.mark,
            e.liq_price,
            e.margin_ratio,
            e.next_funding,
        )
        assert p.liq_distance_sigma == pytest.approx(p.liq_distance / vols[p.symbol], rel=1e-9)
        assert p.liq_distance_sigma == pytest.approx(e.liq_distance_sigma, rel=1e-9)
    summary = engine.account.summary(engine.marks)
    assert report.portfolio.equity == pytest.approx(summary.equity, abs=1e-6)
    assert report.portfolio.wallet_balance == pytest.approx(summary.wallet_balance, abs=1e-9)
    assert report.portfolio.pnl_today == pytest.approx(summary.pnl_today, abs=1e-6)
    gross = sum(p.qty * p.mark for p in report.positions)
    assert report.portfolio.gross_exposure == pytest.approx(gross)
    assert report.portfolio.leverage == pytest.approx(gross / summary.equity)

    # Historical VaR/CVaR: the current exposures replayed over the common days, computed here.
    exposure = {p.symbol: (1 if p.side == "long" else -1) * p.qty * p.mark for p in report.positions}
    rets = {s: returns_of(closes_of(store, s, NOW)) for s in exposure}
    days = sorted(set(rets[BTC]) & set(rets[ETH]))[-365:]
    losses = sorted((-sum(exposure[s] * rets[s][d] for s in exposure) for d in days), reverse=True)
    for level, var, cvar in ((0.95, report.historical.var_95, report.historical.cvar_95),
                             (0.99, report.historical.var_99, report.historical.cvar_99)):  # fmt: skip
        k = math.ceil(len(days) * (1 - level))
        assert var == pytest.approx(losses[k - 1], rel=1e-9)
        assert cvar == pytest.approx(sum(losses[:k]) / k, rel=1e-9)
    # Parametric: the EWMA covariance by recursion, normal quantiles.
    m = np.array([[rets[s][d] for s in (BTC, ETH)] for d in days])
    cov = np.outer(m[0], m[0])
    for row in m[1:]:
        cov = 0.94 * cov + 0.06 * np.outer(row, row)
    w = np.array([exposure[BTC], exposure[ETH]])
    sigma = math.sqrt(w @ cov @ w)
    assert report.parametric.var_95 == pytest.approx(1.6448536269514722 * sigma, rel=1e-9)
    assert report.parametric.var_99 == pytest.approx(2.3263478740408408 * sigma, rel=1e-9)
    assert report.correlation is not None and report.correlation.symbols == (BTC, ETH)
    rho = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
    assert report.correlation.matrix[0][1] == pytest.approx(rho, rel=1e-9)
    (vb, ve) = report.volatility
    assert vb.ewma == pytest.approx(vols[BTC], rel=1e-9) and vb.garch is None and ve.observations == 365

    # The JSON: exactly the issue's keys, valid JSON, the positions' figures as above.
    data = report.as_dict()
    assert tuple(data) == REPORT_KEYS
    assert all(tuple(p) == POSITION_KEYS for p in data["positions"])  # type: ignore[union-attr]
    json.loads(json.dumps(data, allow_nan=False))
    assert data["var_95_1d"] == report.historical.var_95 and data["drawdown"] == report.portfolio.drawdown


def test_candles_are_fetched_once_and_garch_once_per_daily_bar(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, source, engine = setup(store, clock)
    open_positions(ctx, source, engine)
    asyncio.run(refresh_inputs(ctx, source))
    assert source.calls.count("fetch_ohlcv") >= 2
    source.calls.clear()
    clock.advance(2_000)
    asyncio.run(refresh_inputs(ctx, source))
    assert "fetch_ohlcv" not in source.calls  # complete today: not even asked
    assert source.calls == ["fetch_funding_rates"]

    fits: list[int] = []
    real_fit = garch_cache.garch_forecast

    def counting(returns: Any) -> Any:
        fits.append(len(returns))
        return real_fit(returns)

    garch_cache.clear()
    monkeypatch.setattr(garch_cache, "garch_forecast", counting)
    first = build_report(ctx)
    assert fits == [365, 365]
    assert all(v.garch is not None and 0 < v.garch < 0.2 for v in first.volatility)
    build_report(ctx)
    assert fits == [365, 365]  # cached
    # The next day a new bar closes: the missing one is fetched and each held asset refitted once (the
    # 20x BTC long may have been liquidated on the way).
    clock.set(NOW + DAY_MS)
    source.calls.clear()
    asyncio.run(refresh_inputs(ctx, source))
    held = {p.symbol for p in engine.positions()}
    assert source.calls.count("fetch_ohlcv") == len(held)  # one page with the one new bar
    report = build_report(ctx)
    assert {v.symbol for v in report.volatility} == held and len(fits) == 2 + len(held)


def test_offline_the_report_comes_from_the_cache(store: Store, clock: FrozenClock) -> None:
    ctx, source, engine = setup(store, clock)
    open_positions(ctx, source, engine)
    asyncio.run(refresh_inputs(ctx, source))
    online = build_report(ctx, garch=False, record=False)
    asyncio.run(refresh_inputs(ctx, None))
    assert not ctx.live and ctx.stale is not None and ctx.stale.startswith("offline")
    offline = build_report(ctx, garch=False, record=False)
    assert offline.as_dict() == online.as_dict()
    assert not offline.live and offline.notes[0].startswith("offline")


def test_no_positions_give_zero_risk(store: Store, clock: FrozenClock) -> None:
    ctx, source, _ = setup(store, clock)
    asyncio.run(refresh_inputs(ctx, source))
    report = build_report(ctx)
    data = report.as_dict()
    assert data["positions"] == [] and data["alerts"] == []
    assert (data["var_95_1d"], data["cvar_99_1d"], data["gross_exposure"], data["leverage"]) == (0, 0, 0, 0)
    assert data["equity"] == 5_000.0 and data["circuit_breaker"]["tripped"] is False
    assert report.correlation is None and report.volatility == ()


def test_json_never_holds_infinity(store: Store, clock: FrozenClock) -> None:
    """A margin ratio at or past liquidation is infinite: null in the JSON, with a note."""
    ctx, source, engine = setup(store, clock)
    open_positions(ctx, source, engine)
    asyncio.run(refresh_inputs(ctx, source))
    report = build_report(ctx, garch=False, record=False)
    bad = replace(report.positions[0], margin_ratio=math.inf)
    broken = replace(report, portfolio=replace(report.portfolio, positions=(bad, *report.positions[1:])))
    text = json.dumps(broken.as_dict(), allow_nan=False)
    assert json.loads(text)["positions"][0]["margin_ratio"] is None
