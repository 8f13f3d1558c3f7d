"""Property tests of the position sizing calculator over thousands of generated markets and trades.

Every generated market is realistic and varied (amount steps 0.001 .. 10, ticks, minimum quantity and
notional, fees 0 .. 0.1%, tier ladders with continuous ``cum`` and falling max leverage, sometimes no
max quantity, sometimes approximate brackets). For each sized trade the test checks, independently of
the calculator, the promises a trader sizes by: the quantity is a whole number of steps, a stop-out
loses at most the risk budget (both fees and the slippage allowance included), the margin and the entry
fee fit in the free margin, the bracket of the notional allows the leverage, the quantity is within the
market's maximum, one more step breaks the constraint reported as binding, and the liquidation price
satisfies the exchange's formula. Nonsense input never crashes the calculator: it returns a result or
raises ``SizingError``.

Hypothesis runs derandomized and without an example database, so CI sees the same examples every run.
"""

from __future__ import annotations

import math
import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from perptui.domain.sizing import (
    SizingError,
    SizingRequest,
    SizingResult,
    TakeProfitSpec,
    size_position,
)
from perptui.domain.tiers import continuous_maint_amounts, default_tiers
from perptui.domain.types import LeverageTier, Market

#: Deterministic, database-less runs; sized so the whole file takes a few seconds.
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=600,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

REL = 1e-9  # relative tolerance of float identities (far below a cent on any realistic trade)
#: Tolerance of the limit checks: far below what one step moves a figure (a quantity is never more
#: than ~1e12 steps here), so "fits" and "one more step breaks" stay sharp.
LIMIT_TOL = 1e-13


# --- generated markets ----------------------------------------------------------------------------


def ladder(seed: int) -> tuple[LeverageTier, ...]:
    """A Binance-like bracket ladder from a seed: floors from 0 upwards, rising maintenance rates, ``cum``
    that keeps maintenance margin continuous, falling max leverage (at most 0.5 / mmr), an open or a
    capped end. (Built from one drawn seed: drawing every rung from Hypothesis costs more than the test.)"""
    rnd = random.Random(seed)
    n = rnd.randint(1, 10)
    floors = [0.0, rnd.choice([5_000.0, 10_000.0, 50_000.0, 250_000.0])]
    while len(floors) < n:
        floors.append(floors[-1] * rnd.choice([2.0, 4.0, 5.0, 10.0]))
    floors = floors[:n]
    rates = [rnd.choice([0.004, 0.005, 0.01, 0.015, 0.02, 0.025])]
    while len(rates) < n:
        rates.append(min(0.5, rates[-1] * rnd.choice([1.25, 1.5, 2.0, 2.5])))
    cums = continuous_maint_amounts(zip(floors, rates, strict=True))
    top = rnd.choice([125.0, 100.0, 75.0, 50.0, 25.0, 20.0])
    levs: list[float] = []
    for rate in rates:
        lev = float(max(1, min(top, math.floor(0.5 / rate + 1e-9))))
        levs.append(min(lev, levs[-1]) if levs else lev)
    end = math.inf if rnd.random() < 0.5 else (floors[-1] or floors[0]) * 4 + 20_000.0
    caps = [*floors[1:], end]
    return tuple(
        LeverageTier(lo, hi, rate, cum, lev)
        for lo, hi, rate, cum, lev in zip(floors, caps, rates, cums, levs, strict=True)
    )


def tick_for(price: float) -> float:
    """A tick of about 1e-4 .. 1e-5 of the price, as exchanges list them (0.1 for BTC, 1e-7 for PEPE)."""
    return 10.0 ** (math.floor(math.log10(price)) - 4)


PRICES = (0.00002, 0.0123, 0.45, 1.0, 2.37, 17.5, 145.0, 600.0, 2_500.0, 60_000.0)


def market_from(seed: int, price: float) -> Market:
    """A market listed at about ``price``: a step worth 0.001 .. 500 of quote (0.001 for BTC, 1 or 10
    for cheap coins), a tick of 1e-4 .. 1e-5 of the price, minimum quantity and notional or none, a
    taker fee of 0 .. 0.1%, a generated ladder (one market in five has the approximate default one),
    a max quantity or none, a max leverage or none, a funding interval or none."""
    rnd = random.Random(seed)
    step = rnd.choice([x for x in (0.001, 1.0, 0.1, 10.0, 0.01, 100.0, 1000.0) if 1e-3 <= x * price <= 500])
    approximate = rnd.random() < 0.2
    market_max = rnd.choice([None, 125.0, 75.0, 50.0, 20.0])
    tiers = tuple(default_tiers(market_max)) if approximate else ladder(rnd.getrandbits(32))
    max_qty = rnd.choice([None, 1_000.0, 100_000.0, 10_000_000.0])
    fee = rnd.choice([0.0, 0.0002, 0.0004, 0.0005, 0.001])
    return Market(
        exchange="gen",
        symbol="GEN/USDT:USDT",
        id="GENUSDT",
        base="GEN",
        quote="USDT",
        settle="USDT",
        amount_step=step,
        price_tick=tick_for(price),
        min_qty=rnd.choice([None, step, step * 10]),
        max_qty=max_qty if max_qty is None else max(max_qty, step) // step * step,
        min_notional=rnd.choice([None, 5.0, 10.0, 100.0]),
        taker_fee=fee,
        maker_fee=fee / 2,
        max_leverage=market_max,
        funding_interval_hours=rnd.choice([None, 1.0, 4.0, 8.0]),
        tiers=tiers,
        tiers_approximate=approximate,
    )


# Strategies built once: a strategy made inside a composite is re-validated on every draw.
SEEDS = st.integers(0, 2**32 - 1)
PRICE_LEVELS = st.sampled_from(PRICES)
PRICE_FACTORS = st.floats(0.5, 2.0)
DISTANCES = st.floats(0.0005, 0.5)  # stop distance, a fraction of the entry
EQUITIES = st.floats(50.0, 10_000_000.0)
RISKS = st.floats(0.001, 0.05)
#: None (auto), a whole leverage or any leverage, as a share of the way from 1x to the market's maximum
LEVERAGE_SHARES = st.one_of(st.none(), st.integers(0, 200).map(lambda k: (k / 200, True)), st.floats(0, 1))
SHARES_OF_EQUITY = st.one_of(st.none(), st.floats(0.0, 1.0))
CROSS_SHARES = st.one_of(st.none(), st.floats(0.05, 3.0))


def leverage_from(share: float | tuple[float, bool] | None, top: float) -> float | None:
    if share is None:
        return None
    if isinstance(share, tuple):
        return float(max(1, math.floor(1 + share[0] * (top - 1))))
    return min(top, 1 + share * (top - 1))


@st.composite
def requests(draw: st.DrawFn, mode: str | None = None) -> SizingRequest:
    """A sane trade on a generated market: entry and stop on the tick, the stop 0.05% .. 50% away on the
    right side, equity 50 .. 10M, risk 0.1% .. 5% (or an amount), leverage auto or 1 .. the maximum,
    a free margin and a cross balance of their own or none, fees, slippage and funding.

    The numbers a trader types are drawn by Hypothesis (so it pushes them to their edges); the market
    and the minor settings come from one drawn seed, as a dozen more draws would cost more than the test.
    """
    price = draw(PRICE_LEVELS) * draw(PRICE_FACTORS)
    seed = draw(SEEDS)
    rnd = random.Random(seed)
    m = market_from(seed, price)
    tick = m.price_tick or 0.0
    entry = round(price / tick) * tick
    side = rnd.choice(["long", "short"])
    distance = draw(DISTANCES)
    stop = round(entry * (1 - distance if side == "long" else 1 + distance) / tick) * tick
    assume(stop > 0 and stop != entry)
    equity = draw(EQUITIES)
    risk = draw(RISKS)
    risk_kw = {"risk_fraction": risk} if rnd.random() < 0.5 else {"risk_amount": risk * equity}
    tier_max = m.tiers[0].max_leverage if m.tiers else 125.0
    top = min(tier_max, m.max_leverage or tier_max)
    leverage = leverage_from(draw(LEVERAGE_SHARES), top)
    free = draw(SHARES_OF_EQUITY)
    cross = draw(CROSS_SHARES)
    fees = [None, 0.0, 0.0002, 0.0005, 0.001]
    return SizingRequest(
        market=m,
        side=side,  # type: ignore[arg-type]
        entry=entry,
        stop=stop,
        equity=equity,
        leverage=leverage,
        margin_mode=mode or rnd.choice(["isolated", "cross"]),  # type: ignore[arg-type]
        free_margin=None if free is None else free * equity,
        cross_balance=None if cross is None else cross * equity,
        fee_entry=rnd.choice(fees),
        fee_exit=rnd.choice(fees),
        slippage_bps=rnd.choice([0.0, 1.0, 5.0, 20.0, 50.0]),
        funding_rate=rnd.choice([None, rnd.uniform(-0.003, 0.003)]),
        max_risk_fraction=rnd.choice([None, 0.01, 0.02]),
        **risk_kw,
    )


# --- independent re-statements of the exchange's rules -----------------------------------------------


def fees_of(req: SizingRequest) -> tuple[float, float]:
    taker = req.market.taker_fee or 0.0
    return (
        taker if req.fee_entry is None else req.fee_entry,
        taker if req.fee_exit is None else req.fee_exit,
    )


def budget_of(req: SizingRequest) -> float:
    return req.risk_amount if req.risk_amount is not None else req.risk_fraction * req.equity  # type: ignore[operator]


def stop_loss(req: SizingRequest, qty: float) -> float:
    """What a stop-out costs at worst: filled the full slippage allowance past the stop (below it for a
    long, above it for a short), paying the entry fee and the exit fee on that fill."""
    fee_entry, fee_exit = fees_of(req)
    slip = req.slippage_bps / 10_000
    s = 1 if req.side == "long" else -1
    fill = req.stop * (1 - s * slip)
    return qty * (s * (req.entry - fill) + req.entry * fee_entry + fill * fee_exit)


def reported_risk(req: SizingRequest, qty: float) -> float:
    """The calculator's risk figure: the stop distance, the slippage allowance, the entry fee and the exit
    fee charged on the stop plus the allowance (conservative for both sides)."""
    fee_entry, fee_exit = fees_of(req)
    slip = req.slippage_bps / 10_000
    return qty * (
        abs(req.entry - req.stop) + req.stop * slip + req.entry * fee_entry + req.stop * (1 + slip) * fee_exit
    )


def margin_needed(req: SizingRequest, qty: float, leverage: float) -> float:
    fee_entry, _ = fees_of(req)
    return qty * req.entry / leverage + qty * req.entry * fee_entry


def free_of(req: SizingRequest) -> float:
    return req.equity if req.free_margin is None else req.free_margin


def bracket_allowing(tiers: tuple[LeverageTier, ...], notional: float) -> LeverageTier:
    """The bracket whose limits apply to a position of this notional (its cap is still inside it)."""
    for tier in tiers:
        if notional <= tier.max_notional:
            return tier
    return tiers[-1]


def bracket_holding(tiers: tuple[LeverageTier, ...], notional: float) -> LeverageTier:
    """The bracket [min, max) a notional falls in (the last one beyond the ladder)."""
    for tier in tiers:
        if tier.min_notional <= notional < tier.max_notional:
            return tier
    return tiers[-1]


def broken_at(req: SizingRequest, r: SizingResult, qty: float, slack: float = LIMIT_TOL) -> set[str]:
    """The constraints a quantity breaks, checked the way the exchange and the risk rule state them.

    ``slack`` > 0 forgives float noise above a limit (does it fit?); < 0 counts reaching a limit within
    float noise as breaking it (does one more step break it? An exact tie may be lost to rounding)."""
    broken = set()
    if reported_risk(req, qty) > r.risk_budget * (1 + slack):
        broken.add("risk")
    if margin_needed(req, qty, r.leverage) > free_of(req) * (1 + slack):
        broken.add("margin")
    if bracket_allowing(req.market.tiers, qty * req.entry).max_leverage < r.leverage or (
        math.isfinite(req.market.tiers[-1].max_notional)
        and qty * req.entry > req.market.tiers[-1].max_notional * (1 + slack)
    ):
        broken.add("tier")
    if req.market.max_qty is not None and qty > req.market.max_qty:
        broken.add("max_qty")
    return broken


def is_step_multiple(qty: float, step: float) -> bool:
    return Decimal(repr(qty)) % Decimal(repr(step)) == 0


def wallet_of(req: SizingRequest, r: SizingResult) -> float:
    """The wallet balance backing the position: its isolated margin, or the cross balance after the fee."""
    if req.margin_mode == "isolated":
        return r.quantity * r.entry / r.leverage
    cross = req.equity if req.cross_balance is None else req.cross_balance
    return cross - r.fee_entry_usd


# --- the properties ---------------------------------------------------------------------------------


@settings(PROPERTY, max_examples=800)
@given(req=requests())
def test_sized_quantity_keeps_every_promise(req: SizingRequest) -> None:
    """Whole steps; a stop-out loses at most the budget; margin + entry fee fit the free margin; the
    notional's bracket allows the leverage; at most max_qty; one more step breaks the binding constraint."""
    r = size_position(req)
    event(f"bound by {r.binding_constraint}")
    m = req.market
    step = m.amount_step
    assert step is not None
    assert r.quantity >= 0 and is_step_multiple(r.quantity, step)
    assert broken_at(req, r, r.quantity) == set(), r
    assert stop_loss(req, r.quantity) <= budget_of(req) * (1 + REL)
    assert math.isclose(r.risk_usd, reported_risk(req, r.quantity), rel_tol=REL, abs_tol=1e-12)
    assert stop_loss(req, r.quantity) <= r.risk_usd * (1 + REL) + 1e-12
    assert margin_needed(req, r.quantity, r.leverage) <= free_of(req) * (1 + REL)
    if r.quantity > 0:
        assert bracket_allowing(m.tiers, r.notional).max_leverage >= r.leverage
    if m.max_qty is not None:
        assert r.quantity <= m.max_qty
    assert r.binding_constraint in broken_at(req, r, r.quantity + step, slack=-LIMIT_TOL)
    # the figures follow from the quantity
    assert math.isclose(r.notional, r.quantity * req.entry, rel_tol=REL)
    assert math.isclose(r.initial_margin, r.quantity * req.entry / r.leverage, rel_tol=REL)
    assert math.isclose(r.risk_pct, r.risk_usd / req.equity, rel_tol=REL)


@settings(PROPERTY, max_examples=150)
@given(req=requests())
def test_auto_leverage_is_the_lowest_whole_leverage_that_fits(req: SizingRequest) -> None:
    """Auto leverage sizes the FINAL quantity, after every cap: the quantity is the largest any whole
    leverage the market allows gives (sized at that leverage), and the leverage the lowest that gives
    it, so a position capped by the maximum quantity or a bracket never gets more leverage than it needs."""
    req = SizingRequest(**{**_fields(req), "leverage": None})
    r = size_position(req)
    assert r.leverage_auto and r.leverage == int(r.leverage) and r.leverage >= 1
    ceiling = req.market.max_leverage or 125.0
    sized: dict[int, float] = {}
    for lev in range(1, math.floor(ceiling) + 1):
        try:
            sized[lev] = size_position(SizingRequest(**{**_fields(req), "leverage": float(lev)})).quantity
        except SizingError:  # above every bracket
            continue
    best = max(sized.values())
    assert r.quantity == best
    assert r.leverage == min(lev for lev, q in sized.items() if q == best)


def _fields(req: SizingRequest) -> dict[str, object]:
    return {name: getattr(req, name) for name in SizingRequest.__slots__}


@pytest.mark.parametrize("mode", ["isolated", "cross"])
@settings(PROPERTY, max_examples=400)
@given(data=st.data())
def test_liquidation_price_satisfies_the_exchange_formula(mode: str, data: st.DataObject) -> None:
    """At the liquidation price the margin balance equals the maintenance margin of the notional AT that
    price, with the rate and ``cum`` of the bracket holding Q x LP:
    WB + s x Q x (LP - E) = Q x LP x mmr - cum. It lies on the losing side of the entry; the stop/
    liquidation gap and its warning use it; a long never liquidated has margin for a fall to zero."""
    req = data.draw(requests(mode))
    r = size_position(req)
    assume(r.quantity > 0)
    wb = wallet_of(req, r)
    s = 1 if req.side == "long" else -1
    if r.never_liquidated:
        event("never liquidated")
        assert req.side == "long" and r.liquidation_price is None
        assert wb >= r.quantity * r.entry * (1 - REL)  # the margin covers a fall to zero
        return
    lp = r.liquidation_price
    assert lp is not None and lp > 0
    tier = bracket_holding(req.market.tiers, r.quantity * lp)
    if tier != bracket_holding(req.market.tiers, r.notional):
        event("liquidated in another bracket than the entry's")
    event(f"stop beyond liquidation: {s * (r.stop - lp) <= 0}")
    balance = wb + s * r.quantity * (lp - r.entry)
    maintenance = r.quantity * lp * tier.mmr - tier.maint_amount
    scale = max(abs(wb), r.quantity * r.entry, r.quantity * lp)
    assert math.isclose(balance, maintenance, rel_tol=REL, abs_tol=REL * scale)
    if wb > r.quantity * r.entry * bracket_holding(req.market.tiers, r.notional).mmr:
        assert s * (r.entry - lp) > 0  # above maintenance at entry: liquidated only after a loss
    assert r.stop_liquidation_gap is not None
    assert math.isclose(r.stop_liquidation_gap, s * (r.stop - lp) / r.entry, rel_tol=REL, abs_tol=1e-15)
    warned = "stop_beyond_liquidation" in {w.code for w in r.warnings}
    assert warned == (s * (r.stop - lp) <= 0)


@settings(PROPERTY, max_examples=200)
@given(req=requests())
def test_without_a_step_the_quantity_is_the_tightest_limit(req: SizingRequest) -> None:
    """A market that publishes no amount step gets the unrounded quantity: the smallest limit, which
    breaks nothing, and the binding constraint is that limit's."""
    market = replace(req.market, amount_step=None, min_qty=None)
    req = replace(req, market=market)
    r = size_position(req)
    limits = {k: v for k, v in r.limits.items() if v is not None}
    assert broken_at(req, r, r.quantity) == set()
    # (abs_tol: a free margin of 1e-322 gives a subnormal limit, where floats are a few bits wide)
    assert math.isclose(r.quantity, min(limits.values()), rel_tol=1e-12, abs_tol=1e-300)
    assert limits[r.binding_constraint] == min(limits.values())


# --- nonsense never crashes ------------------------------------------------------------------------


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Turn a hang (an endless loop on a silly number) into a failure instead of a stuck CI job."""

    def fire(signum: int, frame: object) -> None:
        raise Hang(f"size_position did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


NONSENSE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, -60_000.0, 1e-300, 5e-324, 1e300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from(["60000", "", "abc", None, True, b"1", [1.0]]),
)

NUMERIC_FIELDS = (
    "entry",
    "stop",
    "equity",
    "risk_fraction",
    "risk_amount",
    "leverage",
    "free_margin",
    "cross_balance",
    "fee_entry",
    "fee_exit",
    "slippage_bps",
    "funding_rate",
    "funding_interval_hours",
    "mark",
    "max_risk_fraction",
    "funding_warn_apr",
)


WILD_FIELDS = st.lists(st.sampled_from(NUMERIC_FIELDS), min_size=1, max_size=4, unique=True)


@st.composite
def wild_requests(draw: st.DrawFn) -> SizingRequest:
    """A sane trade with one to four fields replaced by nonsense, plus plausible mistakes: the stop on the
    entry or the wrong side, leverage under 1x or above the market's, risk over 100%, fees of 1% and
    more, slippage of 10%, a bad side or margin mode, impossible take-profits."""
    base = draw(requests())
    fields = _fields(base)
    entry = base.entry
    for name in draw(WILD_FIELDS):
        fields[name] = draw(NONSENSE)
    rnd = random.Random(draw(SEEDS))
    mistakes: dict[str, list[object]] = {
        "stop": [entry, entry * 1.1, entry * 0.9, -base.stop],
        "leverage": [0.5, 126.0, 1000.0, 1e308],
        "risk_fraction": [1.0, 1.5],
        "risk_amount": [base.equity * 2],
        "fee_entry": [0.01, 0.5],
        "slippage_bps": [999.0, 1000.0],
        "cross_balance": [0.0, -base.equity, 1e-300],
        "free_margin": [0.0, 1e-300],
        "side": ["LONG", "buy", "", None, 1],
        "margin_mode": ["portfolio", None],
    }
    for name in rnd.sample(sorted(mistakes), rnd.randint(0, 2)):
        fields[name] = rnd.choice(mistakes[name])
    targets = [None, 1.0, 3.0, 0.0, -1.0, math.nan, entry * 1.05, entry * 0.95, entry, 500.0]
    fields["take_profits"] = tuple(
        TakeProfitSpec(
            r=rnd.choice(targets[:6]),
            price=rnd.choice([None, None, *targets[4:]]),
            share=rnd.choice([None, None, 0.5, 1.0, 0.0, 1.5, math.nan]),
        )
        for _ in range(rnd.randint(0, 3))
    )
    return SizingRequest(**fields)  # type: ignore[arg-type]


@settings(PROPERTY, max_examples=1000)
@given(req=wild_requests())
def test_no_input_crashes_the_calculator(req: SizingRequest) -> None:
    """Nonsense (NaN, inf, negatives, zero, strings, stops on the wrong side, leverage out of range,
    impossible take-profits) gives a result or a SizingError naming a field, never another exception."""
    try:
        with time_limit(2.0):
            r = size_position(req)
    except SizingError as e:
        assert e.field and str(e).startswith(f"{e.field}: ")
        return
    assert math.isfinite(r.quantity) and r.quantity >= 0
    for value in (r.notional, r.initial_margin, r.risk_usd, r.fee_entry_usd, r.fee_exit_usd):
        assert math.isfinite(value) and value >= 0
    assert r.risk_usd <= r.risk_budget * (1 + REL)
    assert r.as_dict()  # and it serialises
