"""The paper account: its arithmetic, PnL windows, snapshots and persisted settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perptui.config.loader import load_settings
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import parse_utc
from perptui.services.accounts import ExchangeAccount, PaperAccount, defaults_from, open_account
from perptui.services.clock import FrozenClock
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

MIN = 60_000


def paper(store: Store, clock: FrozenClock, capital: float = 5_000.0) -> PaperAccount:
    return PaperAccount(
        store, clock, starting_capital=capital, risk_pct=0.01, neutral_pct=0.7, directional_pct=0.3
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def test_first_use_opens_with_the_starting_capital(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    s = paper(store, clock).summary()
    assert (s.account, s.currency, s.as_of) == ("paper", "USDT", FROZEN_NOW_MS)
    assert (s.equity, s.wallet_balance, s.free_margin, s.used_margin) == (5_000.0, 5_000.0, 5_000.0, 0.0)
    assert (s.unrealized_pnl, s.leverage, s.pnl_today, s.pnl_week) == (0.0, 0.0, 0.0, 0.0)
    assert (s.risk_pct, s.risk_budget, s.neutral_pct, s.directional_pct) == (0.01, 50.0, 0.7, 0.3)
    # A later starting capital does not touch the existing account.
    assert paper(store, clock, capital=9_000).summary().equity == 5_000.0


def test_deposits_and_withdrawals(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    account = paper(store, clock)
    flow = account.deposit(1_000.5)
    assert (flow.kind, flow.amount, flow.balance_after, flow.seq) == ("deposit", 1_000.5, 6_000.5, 2)
    assert account.deposit("250").balance_after == 6_250.5
    assert account.withdraw("1,250.50").balance_after == 5_000.0
    assert account.withdraw(5_000).balance_after == 0.0  # all of it: exactly zero
    assert account.summary().equity == 0.0 and account.summary().risk_budget == 0.0
    with pytest.raises(UsageError, match=r"cannot withdraw 0\.01 USDT: only 0\.00 USDT is free"):
        account.withdraw(0.01)
    assert [f.kind for f in account.cash_flows()] == [
        "opening",
        "deposit",
        "deposit",
        "withdrawal",
        "withdrawal",
    ]


def test_refused_amounts_record_nothing(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    account = paper(store, clock)
    account.open()
    clock.advance(5 * MIN)
    before = (account.cash_flows(), account.equity_history())
    for bad in ("-5", "0", "abc", "", "nan", math.inf, -1.0, 0):
        with pytest.raises(UsageError):
            account.deposit(bad)
        with pytest.raises(UsageError):
            account.withdraw(bad)
    with pytest.raises(UsageError, match=r"only 5,000\.00 USDT is free"):
        account.withdraw(5_000.01)
    assert (account.cash_flows(), account.equity_history()) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    capital=st.decimals(min_value="0.01", max_value="100000", places=2).map(float),
    moves=st.lists(
        st.tuples(
            st.sampled_from(["deposit", "withdraw"]),
            st.decimals(min_value="0.01", max_value="20000", places=2).map(float),
            st.integers(min_value=0, max_value=3 * 86_400_000),
        ),
        max_size=25,
    ),
)
def test_equity_is_opening_plus_deposits_minus_withdrawals(
    tmp_path_factory: pytest.TempPathFactory,
    capital: float,
    moves: list[tuple[str, float, int]],
) -> None:
    """With no positions, at every step: equity = opening + deposits - withdrawals >= 0, and today's and
    this week's PnL are zero (only cash moved), across day and week boundaries."""
    clock = FrozenClock(parse_utc("2025-06-01T20:00"))  # a Sunday evening: the week turns soon
    with Store.open(tmp_path_factory.mktemp("h") / "cache.db") as store:
        account = paper(store, clock, capital)
        expected = capital
        for action, amount, wait in moves:
            clock.advance(wait)
            if action == "deposit":
                account.deposit(amount)
                expected += amount
            elif amount <= expected + 1e-9:
                account.withdraw(amount)
                expected -= amount
            else:
                with pytest.raises(UsageError, match="is free"):
                    account.withdraw(amount)
            s = account.summary()
            assert s.equity == pytest.approx(expected, abs=1e-6)
            assert s.equity is not None and s.equity >= 0 and s.wallet_balance == s.equity
            assert s.pnl_today == 0.0 and s.pnl_week == 0.0
        assert sum(f.signed for f in account.cash_flows()) == pytest.approx(expected, abs=1e-6)


def test_pnl_windows_across_a_day_and_an_iso_week_boundary(store: Store) -> None:
    """Equity changes that are not cash flows (a later issue's fills; simulated here with snapshots)
    count as PnL in the windows they fall in; the windows turn at 00:00 UTC and on Monday 00:00 UTC."""
    clock = FrozenClock(parse_utc("2025-05-31T10:00"))  # Saturday
    account = paper(store, clock, 1_000)
    account.open()  # opened Saturday with 1,000
    clock.set(parse_utc("2025-05-31T12:00"))
    # +100 of PnL on Saturday (last week), as a later issue's fills would record it; the cash-only wallet
    # does not hold it, so from Sunday's baseline of 1,100 equity reads 100 lower.
    store.record_equity("paper", clock.now_ms(), 1_100.0)
    clock.set(parse_utc("2025-06-01T23:59"))  # Sunday, late
    account.deposit(200)  # wallet 1,200 (the 100 was simulated equity, not cash)
    s = account.summary()
    # Today (Sunday): baseline = Saturday's 1,100 snapshot; +200 deposit; equity now 1,200 -> -100.
    assert s.pnl_today == pytest.approx(-100.0)
    # This week (Mon 26 May): account did not exist then -> from the opening 1,000: 1,200 - 1,000 - 200.
    assert s.pnl_week == pytest.approx(0.0)
    clock.set(parse_utc("2025-06-02T00:01"))  # Monday: a new day and a new ISO week
    account.withdraw(50)
    s = account.summary()
    assert s.pnl_today == 0.0 and s.pnl_week == 0.0  # baseline = Sunday's 1,200; only cash moved since


def test_pnl_counts_gains_since_the_window_start(store: Store) -> None:
    clock = FrozenClock(parse_utc("2025-06-02T09:00"))  # Monday
    account = paper(store, clock, 1_000)
    account.open()
    clock.set(parse_utc("2025-06-03T09:00"))  # Tuesday
    account.deposit(500)
    # A gain recorded at Tuesday 10:00 (as a fill would be): equity 1,530 with 1,500 of cash.
    store.record_equity("paper", parse_utc("2025-06-03T10:00"), 1_530.0)
    clock.set(parse_utc("2025-06-04T08:00"))  # Wednesday: today starts at the 1,530 baseline
    account.deposit(70)
    s = account.summary()
    assert s.equity == 1_570.0
    assert s.pnl_today == pytest.approx(1_570 - 1_530 - 70)  # the cash wallet "lost" the 30 gain
    assert s.pnl_week == pytest.approx(1_570 - 1_000 - 500 - 70)


def test_snapshots_at_most_once_a_minute(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    account = paper(store, clock)
    assert account.snapshot_if_due() is False  # opening just recorded one
    clock.advance(59_999)
    assert account.snapshot_if_due() is False
    clock.advance(1)
    assert account.snapshot_if_due() is True
    assert account.snapshot_if_due() is False
    clock.advance(30_000)
    account.deposit(10)  # a change always records one
    assert account.snapshot_if_due() is False
    clock.advance(MIN)
    assert account.snapshot_if_due() is True
    times = [t for t, _ in account.equity_history()]
    assert times == [FROZEN_NOW_MS, FROZEN_NOW_MS + MIN, FROZEN_NOW_MS + 90_000, FROZEN_NOW_MS + 150_000]
    assert account.equity_history(since=FROZEN_NOW_MS + 90_000) == [
        (FROZEN_NOW_MS + 90_000, 5_010.0),
        (FROZEN_NOW_MS + 150_000, 5_010.0),
    ]
    clock.advance(-10 * MIN)  # a clock set back never records out of order within a minute of the last
    assert account.snapshot_if_due() is False


def test_risk_and_split_persist_and_override_the_config(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(path) as store:
        account = paper(store, clock)
        account.set_risk_pct(0.015)
        account.set_split(0.6, 0.4)
        for bad in (0, 1.5, -0.01):
            with pytest.raises(UsageError):
                account.set_risk_pct(bad)
        with pytest.raises(UsageError, match="must make 100%"):
            account.set_split(0.6, 0.5)
    with Store.open(path) as store:
        s = paper(store, clock).summary()  # config defaults say 1% and 70/30
        assert (s.risk_pct, s.neutral_pct, s.directional_pct) == (0.015, 0.6, 0.4)
        assert s.risk_budget == pytest.approx(75.0)


def test_bad_defaults_are_refused() -> None:
    with Store.open(":memory:") as store:
        with pytest.raises(UsageError):
            PaperAccount(
                store,
                FrozenClock(0),
                starting_capital=100,
                risk_pct=1.5,
                neutral_pct=0.7,
                directional_pct=0.3,
            )
        with pytest.raises(UsageError):
            PaperAccount(
                store,
                FrozenClock(0),
                starting_capital=100,
                risk_pct=0.01,
                neutral_pct=0.7,
                directional_pct=0.2,
            )


def test_config_percents_become_fractions_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_RISK__RISK_PCT", "1.5")
    monkeypatch.setenv("PERPTUI_PLAN__NEUTRAL_PCT", "80")
    monkeypatch.setenv("PERPTUI_PLAN__DIRECTIONAL_PCT", "20")
    monkeypatch.setenv("PERPTUI_PAPER__STARTING_CAPITAL", "2500")
    config = load_settings({}, {})
    d = defaults_from(config)
    assert (d.starting_capital, d.risk_pct, d.neutral_pct, d.directional_pct) == (2500, 0.015, 0.8, 0.2)
    with Store.open(":memory:") as store:
        account = open_account(config, store, FrozenClock(FROZEN_NOW_MS))
        assert isinstance(account, PaperAccount)
        s = account.summary()
        assert (s.equity, s.risk_pct, s.neutral_pct, s.directional_pct) == (2500, 0.015, 0.8, 0.2)


def test_open_account_in_exchange_mode_needs_an_exchange_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    with Store.open(":memory:") as store:
        with pytest.raises(UsageError, match="needs a real exchange"):
            open_account(load_settings({}, {}), store, FrozenClock(0))
        with pytest.raises(UsageError, match="needs API keys"):
            open_account(load_settings({"exchange": "binanceusdm"}, {}), store, FrozenClock(0))
        monkeypatch.setenv("PERPTUI_API_KEY", "k")
        monkeypatch.setenv("PERPTUI_API_SECRET", "s")

        class Source:
            name = "binanceusdm"

        account = open_account(
            load_settings({"exchange": "binanceusdm"}, {}),
            store,
            FrozenClock(0),
            Source(),  # type: ignore[arg-type]
        )
        assert isinstance(account, ExchangeAccount) and account.name == "binanceusdm"
