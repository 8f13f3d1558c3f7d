"""Portfolio figures: equity, exposure, leverage, today's PnL and drawdown (cash flows neither hide nor
make one)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.risk_portfolio import drawdowns, portfolio_risk, signed_exposures
from perptui.domain.risk_position import PositionInput, position_risk
from perptui.domain.types import LeverageTier

PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=300)
TIERS = (LeverageTier(0.0, 1e9, 0.01, 0.0, 50.0),)
T0 = 1_748_736_000_000  # 2025-06-01 00:00 UTC
H = 3_600_000


def pos(symbol: str, side: str, qty: float, entry: float, mark: float | None) -> PositionInput:
    return PositionInput(symbol, side, qty, entry, mark, 5.0, "isolated", qty * entry / 5, TIERS)  # type: ignore[arg-type]


def test_portfolio_worked_by_hand() -> None:
    risks = [
        position_risk(pos("BTC/USDT:USDT", "long", 0.01, 60_000.0, 62_000.0)),  # 620 notional, +20
        position_risk(pos("ETH/USDT:USDT", "short", 0.5, 3_000.0, 3_100.0)),  # 1,550 notional, -50
    ]
    p = portfolio_risk(risks, 1_000.0, now_ms=T0 + 10 * H, equity_day_start=1_050.0, flows_today=-20.0)
    assert p.unrealized_pnl == pytest.approx(-30.0)
    assert p.equity == pytest.approx(970.0)
    assert p.gross_exposure == pytest.approx(2_170.0)
    assert p.net_exposure == pytest.approx(620.0 - 1_550.0)
    assert p.leverage == pytest.approx(2_170.0 / 970.0)
    assert p.pnl_today == pytest.approx(970.0 - 1_050.0 + 20.0)  # a 20 withdrawal is not a loss
    assert p.daily_loss == pytest.approx(60.0 / 1_050.0)
    assert p.drawdown == 0.0  # no history: today's equity is the peak
    assert p.positions == tuple(risks)
    assert signed_exposures(risks) == pytest.approx({"BTC/USDT:USDT": 620.0, "ETH/USDT:USDT": -1_550.0})


def test_no_positions_and_unknowns() -> None:
    empty = portfolio_risk([], 500.0)
    assert (empty.equity, empty.gross_exposure, empty.net_exposure, empty.leverage) == (500.0, 0.0, 0.0, 0.0)
    assert empty.pnl_today is None and empty.daily_loss is None
    unknown = [position_risk(pos("BTC/USDT:USDT", "long", 0.01, 60_000.0, None))]
    p = portfolio_risk(unknown, 500.0, equity_day_start=500.0)
    assert (p.equity, p.unrealized_pnl, p.gross_exposure, p.leverage, p.pnl_today, p.drawdown) == (None,) * 6
    assert signed_exposures(unknown) is None
    assert portfolio_risk([], None).equity is None


def test_long_and_short_of_one_asset_have_zero_net_exposure() -> None:
    legs = [position_risk(pos("SOL/USDT:USDT", s, 3.0, 150.0, 161.3)) for s in ("long", "short")]
    p = portfolio_risk(legs, 1_000.0)
    assert p.net_exposure == 0.0 and p.gross_exposure == pytest.approx(2 * 3.0 * 161.3)
    assert p.unrealized_pnl == 0.0


def test_drawdown_from_the_peak_and_cash_flows() -> None:
    history = [(T0, 1_000.0), (T0 + H, 1_200.0), (T0 + 2 * H, 900.0)]
    assert [d for _, d in drawdowns(history)] == pytest.approx([0.0, 0.0, 0.25])
    p = portfolio_risk([], 960.0, now_ms=T0 + 3 * H, equity_history=history)
    assert p.drawdown == pytest.approx(1 - 960 / 1_200)
    # Withdrawing 300 between the snapshots: equity 900 is no loss at all.
    flows = [(T0 + H + 1, -300.0)]
    assert drawdowns(history, flows)[-1][1] == pytest.approx(0.0)
    # Depositing 500 while losing 10%: the drawdown is the 10%, not hidden by the deposit.
    grow = [(T0, 1_000.0), (T0 + H, 1_400.0)]
    assert drawdowns(grow, [(T0 + H, 500.0)])[-1][1] == pytest.approx(0.1)
    # A flow before the first snapshot is already in it.
    assert drawdowns(grow, [(T0 - H, 500.0)])[-1][1] == 0.0
    # A wipe-out then a fresh deposit restarts the index.
    wiped = [(T0, 100.0), (T0 + H, 0.0), (T0 + 2 * H, 50.0)]
    assert [d for _, d in drawdowns(wiped, [(T0 + 2 * H, 50.0)])] == pytest.approx([0.0, 1.0, 0.0])


@PROPERTY
@given(st.lists(st.floats(1.0, 1e6), min_size=1, max_size=40))
def test_without_flows_drawdown_is_one_minus_equity_over_its_peak(equities: list[float]) -> None:
    series = drawdowns([(T0 + i * H, e) for i, e in enumerate(equities)])
    for i, (_, d) in enumerate(series):
        assert d == pytest.approx(1 - equities[i] / max(equities[: i + 1]), abs=1e-12)
        assert 0.0 <= d < 1.0


@PROPERTY
@given(st.lists(st.tuples(st.floats(0.5, 1.5), st.floats(-1e3, 1e4)), min_size=1, max_size=30))
def test_flows_do_not_change_the_drawdown_of_the_same_returns(steps: list[tuple[float, float]]) -> None:
    """Two accounts with the same daily returns, one also depositing and withdrawing: same drawdowns."""
    plain, flowing, flows = [(T0, 1_000.0)], [(T0, 1_000.0)], []
    for i, (growth, flow) in enumerate(steps, start=1):
        t = T0 + i * H
        plain.append((t, plain[-1][1] * growth))
        flow = max(flow, -0.9 * flowing[-1][1] * growth)  # never withdraw it all
        flowing.append((t, flowing[-1][1] * growth + flow))
        flows.append((t - 1, flow))
    for (_, a), (_, b) in zip(drawdowns(plain), drawdowns(flowing, flows), strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
