"""VaR and CVaR: properties on generated returns, a worked example, and real Binance daily returns checked
against an independent pandas/scipy computation written out in the test."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from perptui.domain.risk_portfolio import signed_exposures
from perptui.domain.risk_position import PositionInput, position_risk
from perptui.domain.timeframes import DAY_MS
from perptui.domain.var import (
    ReturnPanel,
    aligned_daily_returns,
    historical_var,
    parametric_var,
    portfolio_pnl,
)

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=200)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT")
DAY0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC


def panel_of(seed: int, rows: int, cols: int) -> ReturnPanel:
    """Fat-tailed daily returns (Student t, 3 dof, ~3% scale) with some correlation."""
    rng = np.random.default_rng(seed)
    common = rng.standard_t(3, size=(rows, 1))
    own = rng.standard_t(3, size=(rows, cols))
    returns = 0.03 * (0.6 * common + 0.8 * own) / math.sqrt(3)
    return ReturnPanel(SYMBOLS[:cols], tuple(DAY0 + i * DAY_MS for i in range(rows)), returns)


cases = st.tuples(
    st.integers(0, 10**6),
    st.integers(100, 400),
    st.lists(st.floats(-1e5, 1e5).filter(lambda x: abs(x) > 1e-3), min_size=1, max_size=4),
)


def exposures_of(panel: ReturnPanel, amounts: list[float]) -> dict[str, float]:
    return dict(zip(panel.symbols, amounts, strict=False))


@PROPERTY
@given(cases)
def test_cvar_is_at_least_var_and_99_at_least_95(case: tuple[int, int, list[float]]) -> None:
    seed, rows, amounts = case
    panel = panel_of(seed, rows, len(amounts))
    exposures = exposures_of(panel, amounts)
    for result in (historical_var(exposures, panel), parametric_var(exposures, panel)):
        assert result.reason is None and len(result.tails) == 2
        for tail in result.tails:
            assert tail.cvar >= tail.var - 1e-9 * abs(tail.var)
        assert result.var(0.99) >= result.var(0.95) - 1e-9  # type: ignore[operator]
        assert result.cvar(0.99) >= result.cvar(0.95) - 1e-9  # type: ignore[operator]


@PROPERTY
@given(cases, st.floats(1e-3, 1e3))
def test_var_of_a_scaled_portfolio_scales_linearly(case: tuple[int, int, list[float]], c: float) -> None:
    seed, rows, amounts = case
    panel = panel_of(seed, rows, len(amounts))
    base = exposures_of(panel, amounts)
    scaled = {s: c * x for s, x in base.items()}
    for method in (historical_var, parametric_var):
        a, b = method(base, panel), method(scaled, panel)
        for level in (0.95, 0.99):
            assert b.var(level) == pytest.approx(c * a.var(level), rel=1e-9, abs=1e-9)  # type: ignore[operator]
            assert b.cvar(level) == pytest.approx(c * a.cvar(level), rel=1e-9, abs=1e-9)  # type: ignore[operator]


@PROPERTY
@given(st.integers(0, 10**6), st.floats(1e-3, 1e6))
def test_long_and_short_of_one_asset_net_to_zero_exposure_and_var(seed: int, qty_notional: float) -> None:
    mark = 1.0 + seed % 1000
    qty = qty_notional / mark
    legs = [
        position_risk(PositionInput(SYMBOLS[0], side, qty, mark, mark, 2.0, "isolated", None))  # type: ignore[arg-type]
        for side in ("long", "short")
    ]
    exposures = signed_exposures(legs)
    assert exposures == {SYMBOLS[0]: 0.0}
    panel = panel_of(seed, 200, 1)
    for result in (historical_var(exposures, panel), parametric_var(exposures, panel)):
        assert [(t.var, t.cvar) for t in result.tails] == [(0.0, 0.0), (0.0, 0.0)]
        assert all(math.copysign(1, t.var) > 0 for t in result.tails)  # +0.0, never -0.0


def test_historical_worked_example() -> None:
    # 100 days: returns -10%, -9%, ..., -1% then 90 days of +1%. A 1,000 long loses 100, 90, ..., 10.
    returns = np.array([-0.10 + 0.01 * i for i in range(10)] + [0.01] * 90)[:, None]
    panel = ReturnPanel((SYMBOLS[0],), tuple(range(100)), returns)
    result = historical_var({SYMBOLS[0]: 1_000.0}, panel)
    # 95%: k = ceil(100 x 5%) = 5 worst: 100, 90, 80, 70, 60 -> VaR 60, CVaR 80.
    assert result.var(0.95) == pytest.approx(60.0) and result.cvar(0.95) == pytest.approx(80.0)
    # 99%: the single worst day.
    assert result.var(0.99) == pytest.approx(100.0) and result.cvar(0.99) == pytest.approx(100.0)
    short = historical_var({SYMBOLS[0]: -1_000.0}, panel)
    assert short.var(0.95) == pytest.approx(10.0) and short.cvar(0.99) == pytest.approx(10.0)  # up days
    rising = ReturnPanel((SYMBOLS[0],), tuple(range(100)), np.full((100, 1), 0.01))
    assert historical_var({SYMBOLS[0]: 1_000.0}, rising).var(0.99) == pytest.approx(-10.0)  # a gain, as is


def test_parametric_worked_example() -> None:
    # Constant +-2% days: EWMA variance of a long of 1,000 is 4e-4 x 1,000^2 -> sigma 20.
    returns = np.array([0.02, -0.02] * 50)[:, None]
    panel = ReturnPanel((SYMBOLS[0],), tuple(range(100)), returns)
    result = parametric_var({SYMBOLS[0]: 1_000.0}, panel)
    assert result.var(0.99) == pytest.approx(2.3263478740 * 20.0)
    assert result.cvar(0.95) == pytest.approx(20.0 * 0.1031356216 / 0.05)


def test_too_little_history_or_a_missing_symbol_gives_a_reason() -> None:
    panel = panel_of(1, 60, 2)
    h = historical_var({SYMBOLS[0]: 1.0}, panel)
    assert h.tails == () and h.var(0.95) is None
    assert h.reason == "only 60 days of returns in common (need 100)"
    assert parametric_var({SYMBOLS[0]: 1.0}, panel).reason is None  # 60 >= 20 for EWMA
    assert parametric_var({SYMBOLS[0]: 1.0}, panel_of(1, 10, 1)).reason is not None
    missing = historical_var({"XRP/USDT:USDT": 5.0, SYMBOLS[0]: 1.0}, panel)
    assert missing.reason == "no daily returns for XRP/USDT:USDT"
    empty = historical_var({}, panel)
    assert [(t.var, t.cvar) for t in empty.tails] == [(0.0, 0.0), (0.0, 0.0)]


def test_aligned_returns_span_one_day_each_and_keep_the_last_days() -> None:
    a = [(DAY0 + i * DAY_MS, 100.0 + i) for i in range(6)]
    b = [(DAY0 + i * DAY_MS + 3_600_000, 10.0 * (i + 1)) for i in range(6) if i != 3]  # day 3 missing
    panel = aligned_daily_returns({"A": a, "B": b}, days=None)
    # B has returns for days 1, 2, 5 (4 and 3 need day 3); A for days 1..5.
    assert panel.times == (DAY0 + DAY_MS, DAY0 + 2 * DAY_MS, DAY0 + 5 * DAY_MS)
    assert panel.column("A").tolist() == pytest.approx([101 / 100 - 1, 102 / 101 - 1, 105 / 104 - 1])
    assert panel.column("B").tolist() == pytest.approx([1.0, 0.5, 60 / 50 - 1])
    assert aligned_daily_returns({"A": a, "B": b}, days=2).times == panel.times[-2:]
    assert portfolio_pnl({"A": 100.0, "B": -10.0}, panel).tolist() == pytest.approx(
        [100 * 0.01 - 10, 100 * (102 / 101 - 1) - 5, 100 * (105 / 104 - 1) - 2]
    )


# --- real Binance daily returns -------------------------------------------------------------------


def load_closes(data: Path, coins: list[str], until: str) -> pd.DataFrame:
    """Daily perp closes by UTC date up to ``until`` (inclusive), one column per coin."""
    frames = {}
    for coin in coins:
        df = pd.read_csv(data / "ohlcv_1d_perp" / f"{coin}USDT.csv", parse_dates=["date"])
        frames[coin] = df.set_index("date")["close"]
    return pd.DataFrame(frames).loc[:until]


def series_of(closes: pd.DataFrame) -> dict[str, list[tuple[int, float]]]:
    """The domain's input: (bar time in ms, close) per coin."""
    return {c: [(int(t.value // 1_000_000), float(v)) for t, v in closes[c].dropna().items()] for c in closes}


PORTFOLIOS = [
    ({"BTC": 1_500.0}, "2022-11-30"),  # through FTX
    ({"BTC": 1_000.0, "ETH": -600.0, "SOL": 250.0}, "2022-06-30"),  # through LUNA
    ({"ETH": 800.0, "DOGE": -300.0, "ARB": 200.0}, "2026-02-24"),
]


@pytest.mark.parametrize(("exposures", "until"), PORTFOLIOS)
def test_var_and_cvar_match_an_independent_pandas_computation(
    binance_data: Path, exposures: dict[str, float], until: str
) -> None:
    coins = list(exposures)
    closes = load_closes(binance_data, coins, until)
    panel = aligned_daily_returns(series_of(closes))
    held = {c: exposures[c] for c in coins}

    # Independent: pandas returns over consecutive calendar days, days every coin has, the last 365.
    full = closes.asfreq("D")
    returns = full.pct_change(fill_method=None).dropna().iloc[-365:]
    assert len(returns) == len(panel.times) == 365
    assert [int(t.value // 1_000_000) for t in returns.index] == list(panel.times)
    pnl = returns[coins] @ pd.Series(held)
    losses = (-pnl).sort_values(ascending=False).to_numpy()
    n = len(losses)

    hist = historical_var(held, panel)
    par = parametric_var(held, panel)
    # EWMA covariance with the same weights gives w'Sigma w = EWMA of the daily PnL squared.
    sigma = math.sqrt((pnl**2).ewm(alpha=1 - 0.94, adjust=False).mean().iloc[-1])
    for level, tail_pct in ((0.95, 5), (0.99, 1)):
        k = -(-n * tail_pct // 100)  # ceil(n x (1 - level)) in integers
        assert hist.var(level) == pytest.approx(losses[k - 1], rel=1e-12)
        assert hist.cvar(level) == pytest.approx(losses[:k].mean(), rel=1e-12)
        z = norm.ppf(level)
        assert par.var(level) == pytest.approx(z * sigma, rel=1e-9)
        assert par.cvar(level) == pytest.approx(sigma * norm.pdf(z) / (1 - level), rel=1e-9)
    # Sanity on real markets: a 99% day costs more than a 95% one, both a few % of gross.
    gross = sum(abs(x) for x in held.values())
    assert 0.01 * gross < hist.var(0.95) < hist.var(0.99) < 0.5 * gross  # type: ignore[operator]


def test_a_new_listing_has_too_few_common_days(binance_data: Path) -> None:
    closes = load_closes(binance_data, ["BTC", "ARB"], "2023-06-30")
    panel = aligned_daily_returns(series_of(closes))
    n = len(closes.dropna()) - 1  # ARB listed 2023-03-23: returns from its second day
    assert len(panel.times) == n < 100
    result = historical_var({"BTC": 1_000.0, "ARB": 100.0}, panel)
    assert result.tails == () and result.reason == f"only {n} days of returns in common (need 100)"
    assert parametric_var({"BTC": 1_000.0, "ARB": 100.0}, panel).reason is None
