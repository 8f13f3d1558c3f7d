"""The pure account maths: amounts, risk and split checks, PnL windows, the summary."""

from __future__ import annotations

import math

import pytest

from perptui.domain.account import (
    SUMMARY_KEYS,
    AccountSummary,
    CashFlow,
    check_amount,
    check_risk_fraction,
    check_split,
    day_start,
    effective_leverage,
    equity_at,
    period_pnl,
    risk_budget,
    week_start,
)
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import parse_utc


def test_check_amount_for_numbers() -> None:
    """Amounts of money (typed text is read by ``presentation.parse``, tested there): a cent to a billion,
    kept to 8 decimals; a refusal names the field and says what is accepted."""
    assert check_amount(250) == 250.0
    assert check_amount(0.01) == 0.01
    assert check_amount(1e9) == 1e9
    assert check_amount(1.123456789) == 1.12345679
    for bad, why in (
        (0, "amount: 0 must be above 0"),
        (-1.0, "amount: -1 must be above 0"),
        (0.000001, "amount: 0.000001 is below the smallest accepted amount 0.01 USDT"),
        (1e15, "amount: 1,000,000,000,000,000 is above the largest accepted amount 1,000,000,000 USDT"),
        (math.nan, "not a number"),
        (math.inf, "not a number"),
    ):
        with pytest.raises(UsageError) as info:
            check_amount(bad)
        assert why in str(info.value) and info.value.exit_code == 2
    with pytest.raises(UsageError, match="not a number"):
        check_amount(True)  # type: ignore[arg-type]


def test_risk_fraction_is_checked() -> None:
    assert check_risk_fraction(0.01) == 0.01
    assert check_risk_fraction(1) == 1.0
    for bad in (0, -0.01, 1.0001, math.nan):
        with pytest.raises(UsageError, match="more than 0% and at most 100%"):
            check_risk_fraction(bad)


def test_split_is_checked() -> None:
    assert check_split(0.7, 0.3) == (0.7, 0.3)
    assert check_split(1, 0) == (1.0, 0.0)
    with pytest.raises(UsageError, match="must make 100%, not 70% \\+ 20% = 90%"):
        check_split(0.7, 0.2)
    with pytest.raises(UsageError, match="neutral base share must be between 0% and 100%"):
        check_split(1.2, -0.2)
    with pytest.raises(UsageError, match="directional layer share"):
        check_split(0.5, math.nan)


def test_day_and_iso_week_starts_are_utc() -> None:
    sunday_night = parse_utc("2025-06-01T23:59:59")  # a Sunday
    assert day_start(sunday_night) == parse_utc("2025-06-01")
    assert week_start(sunday_night) == parse_utc("2025-05-26")  # the Monday before
    monday = parse_utc("2025-06-02T00:00")
    assert day_start(monday) == monday and week_start(monday) == monday
    assert week_start(parse_utc("2025-06-04T12:00")) == monday
    assert week_start(0) == parse_utc("1969-12-29")  # epoch day was a Thursday


def flow(seq: int, time: int, kind: str, amount: float) -> CashFlow:
    return CashFlow("paper", seq, time, kind, amount, 0.0)


def test_period_pnl_nets_out_cash_moved_after_the_baseline() -> None:
    history = [(100, 1000.0), (200, 1100.0), (300, 1050.0)]
    flows = [flow(1, 100, "opening", 1000), flow(2, 200, "deposit", 100), flow(3, 300, "withdrawal", 50)]
    # From t=150: baseline 1000 at t=100; +100 -50 moved since; equity now 1060 -> 10 earned.
    assert period_pnl(1060.0, 150, history, flows, 1000.0) == pytest.approx(10.0)
    # From t=200: the snapshot at 200 already holds that deposit.
    assert period_pnl(1060.0, 200, history, flows, 1000.0) == pytest.approx(10.0)
    # Before the account existed: counted from its opening.
    assert period_pnl(1060.0, 50, history, flows, 1000.0) == pytest.approx(10.0)
    assert period_pnl(None, 50, history, flows, 1000.0) is None
    assert equity_at(history, 250) == (200, 1100.0) and equity_at(history, 99) is None


def test_summary_json_keys_and_helpers() -> None:
    s = AccountSummary("paper", "USDT", 1, 100.0, 100.0, 100.0, 0.0, 0.0, 0.0, 0.01, 1.0, 0.7, 0.3)
    data = s.as_dict()
    assert list(data)[: len(SUMMARY_KEYS)] == list(SUMMARY_KEYS)
    assert SUMMARY_KEYS == (
        "equity", "wallet_balance", "free_margin", "used_margin", "unrealized_pnl", "leverage",
        "risk_pct", "risk_budget", "neutral_pct", "directional_pct", "pnl_today", "pnl_week",
    )  # fmt: skip
    assert data["pnl_today"] is None and data["account"] == "paper"
    assert effective_leverage(0.0, 100.0) == 0.0
    assert effective_leverage(300.0, 100.0) == 3.0
    assert effective_leverage(300.0, 0.0) is None and effective_leverage(None, 100.0) is None
    assert risk_budget(0.01, 5000.0) == 50.0 and risk_budget(0.01, None) is None
    assert risk_budget(0.01, -5.0) == 0.0
