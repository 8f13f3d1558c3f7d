"""Synthetic inputs of the hybrid plan: perps with trending closes, funding prints and steps, built by
hand so the tests know what the plan should pick."""

from __future__ import annotations

import numpy as np

from perptui.domain.plan import PlanInputs
from perptui.domain.timeframes import DAY_MS, HOUR_MS
from perptui.domain.types import Market

NOW = 1_748_736_000_000  # 2025-06-01T00:00Z, a day boundary
DAYS = 420


def market(
    symbol: str,
    *,
    step: float = 0.001,
    min_qty: float | None = 0.001,
    min_notional: float | None = 5.0,
    spot: bool = True,
    taker: float = 0.0005,
) -> Market:
    base = symbol.split("/")[0]
    return Market(
        "test", symbol, base + "USDT", base, "USDT", "USDT", amount_step=step, min_qty=min_qty,
        min_notional=min_notional, taker_fee=taker, max_leverage=20.0, funding_interval_hours=8.0,
        spot_symbol=f"{base}/USDT" if spot else None,
    )  # fmt: skip


def daily_closes(
    start: float, drift: float, vol: float, seed: int, days: int = DAYS
) -> list[tuple[int, float]]:
    """Closed daily bars ending the day before NOW: a geometric walk with a daily drift."""
    rng = np.random.default_rng(seed)
    rets = drift + vol * rng.standard_normal(days)
    prices = start * np.cumprod(1.0 + rets)
    first = NOW - days * DAY_MS
    return [(first + i * DAY_MS, float(p)) for i, p in enumerate(prices)]


def funding(apr: float, days: int = 40, noise: float = 0.0, seed: int = 0) -> list[tuple[int, float]]:
    """8-hourly prints at a yearly ``apr`` (ending at NOW), with optional noise per print."""
    rng = np.random.default_rng(seed)
    count = days * 3
    rate = apr / 1095
    return [
        (NOW - (count - 1 - i) * 8 * HOUR_MS, rate + noise * float(rng.standard_normal()))
        for i in range(count)
    ]


def inputs(
    symbols: dict[str, tuple[float, float, float, float]], *, spot: set[str] | None = None, notes: tuple = ()
) -> PlanInputs:
    """``symbols``: name -> (price, daily drift, daily vol, funding APR); volume falls with the order."""
    markets = {s: market(s, spot=spot is None or s in spot) for s in symbols}
    closes = {s: daily_closes(p, d, v, seed=i) for i, (s, (p, d, v, _)) in enumerate(symbols.items())}
    prints = {
        s: funding(f, noise=abs(f) / 1095 * 0.3, seed=i) for i, (s, (*_, f)) in enumerate(symbols.items())
    }
    return PlanInputs(
        markets=markets,
        closes=closes,
        funding=prints,
        intervals_h=dict.fromkeys(symbols, 8.0),
        current_rates={},
        marks={s: c[-1][1] for s, c in closes.items()},
        spot_available={s for s, m in markets.items() if m.spot_symbol},
        volume_usd={s: 1e9 / (i + 1) for i, s in enumerate(symbols)},
        now=NOW,
        notes=notes,
    )


UNIVERSE = {
    "AAA/USDT:USDT": (100.0, 0.004, 0.02, 0.30),  # rising, rich funding
    "BBB/USDT:USDT": (50.0, -0.004, 0.03, 0.15),  # falling
    "CCC/USDT:USDT": (10.0, 0.002, 0.04, 0.02),  # funding too low to carry
    "DDD/USDT:USDT": (2.0, -0.003, 0.05, -0.30),  # negative funding: a carry needs a spot borrow
    "EEE/USDT:USDT": (1000.0, 0.001, 0.025, 0.10),
}
