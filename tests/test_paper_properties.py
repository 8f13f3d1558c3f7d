"""Invariants of the paper engine over random sequences of orders, marks, funding and transfers.

At every step:
- equity = deposits - withdrawals + realised PnL + unrealised PnL + funding - fees, the right-hand side
  summed from the fills and funding tables, the left from the cash ledger (so a fill or a settlement
  that reached one but not the other fails);
- realised + unrealised PnL = the cash of every fill (-d x qty x price) + the marked value of the open
  positions (d x qty x mark): a check of netting, averaging and flips that does not use entries;
- each position's signed quantity = the sum of its symbol's signed fills (position and fill written
  together);
- a position's take-profit levels close at most its quantity, each a whole number of amount steps, and
  a trailing stop never moves against the position.

Orders carry up to three take-profit levels (partial fills of the position as the marks cross them),
stops are moved (to a price, to breakeven, removed) and trailed.

With spot and carry pairs (issue 17, item 3) the identity counts the spot fills' realised PnL and fees
and the holdings at the spot price, and every pair's perp leg is a short of the pair's quantity or less
(less only after a liquidation), its spot leg the holding.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from dataclasses import replace

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from perptui.domain.errors import UsageError
from perptui.domain.paper import TakeProfitTarget, Trail
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, make_engine, market

SYMBOLS = (BTC, ETH)
START = {BTC: 40_000.0, ETH: 2_000.0}

orders = st.tuples(
    st.just("order"),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["long", "short"]),
    st.integers(1, 400),  # hundredths of the reference size
    st.sampled_from([2.0, 10.0, 25.0, 50.0]),
    st.sampled_from(["isolated", "cross"]),
    st.one_of(st.none(), st.floats(-0.05, 0.05)),  # None = market, else a limit offset
    st.lists(st.tuples(st.floats(0.002, 0.04), st.sampled_from([0.2, 0.25, 0.33, 0.5])), max_size=3),
)
moves = st.one_of(
    st.tuples(st.just("marks"), st.floats(-0.12, 0.12), st.floats(-0.12, 0.12)),
    # small steps, so a move crosses one take-profit level and leaves the others
    st.tuples(st.just("marks"), st.floats(-0.015, 0.015), st.floats(-0.015, 0.015)),
)
# Orders and moves twice: the interesting sequences need many of both.
actions = st.one_of(
    orders,
    moves,
    orders,
    moves,
    st.tuples(st.just("funding"), st.sampled_from(SYMBOLS), st.floats(-0.003, 0.003)),
    st.tuples(st.just("close"), st.sampled_from(SYMBOLS), st.floats(0.1, 1.0)),
    st.tuples(st.just("stop"), st.sampled_from(SYMBOLS), st.floats(0.005, 0.1), st.booleans()),
    st.tuples(st.just("breakeven"), st.sampled_from(SYMBOLS), st.booleans()),
    st.tuples(st.just("trail"), st.sampled_from(SYMBOLS), st.floats(0.002, 0.08)),
    st.tuples(st.just("pair"), st.sampled_from(SYMBOLS), st.integers(1, 300)),
    st.tuples(st.just("unpair"), st.sampled_from(SYMBOLS), st.floats(0.1, 1.0)),
    st.tuples(
        st.just("spot"), st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]), st.integers(1, 300)
    ),
    st.tuples(st.just("basis"), st.floats(-0.01, 0.01)),
    st.tuples(st.just("deposit"), st.integers(1, 3_000)),
    st.tuples(st.just("withdraw"), st.integers(1, 3_000)),
)

REFERENCE_QTY = {BTC: 0.1, ETH: 2.0}
SPOT = {BTC: "BTC/USDT", ETH: "ETH/USDT"}


def with_spot_twins(engine) -> None:
    engine.book.use([replace(market(s), spot_symbol=SPOT[s]) for s in SYMBOLS])


def _spot_prices(marks: dict[str, float], basis: list[float]) -> dict[str, float]:
    return {SPOT[s]: round(marks[s] / (1 + basis[0]), 2) for s in SYMBOLS}


def _step(engine, clock: FrozenClock, marks: dict[str, float], action: tuple, basis: list[float]) -> None:
    kind = action[0]
    spot = _spot_prices(marks, basis)
    if kind in ("pair", "spot"):
        qty = round(REFERENCE_QTY[action[1]] * action[-1] / 100, 3)
        if kind == "pair":
            engine.open_pair(action[1], qty, mark=marks[action[1]], spot=spot[SPOT[action[1]]])
        else:
            engine.place_spot(SPOT[action[1]], action[2], qty, spot=spot[SPOT[action[1]]])
    elif kind == "unpair":
        pair = next((p for p in engine.pairs() if p.symbol == action[1]), None)
        if pair is not None:
            qty = round(max(pair.qty * action[2], 0.001), 3)
            engine.close_pair(
                action[1], min(qty, pair.qty), mark=marks[action[1]], spot=spot[SPOT[action[1]]]
            )
    elif kind == "basis":
        basis[0] = action[1]
        engine.on_spot_marks(_spot_prices(marks, basis))
    elif kind == "order":
        _, symbol, side, size, leverage, mode, offset, tps = action
        qty = round(REFERENCE_QTY[symbol] * size / 100, 3)
        price = None if offset is None else round(marks[symbol] * (1 + offset), 1)
        base = price or marks[symbol]
        sign = 1 if side == "long" else -1
        targets = tuple(
            TakeProfitTarget(round(base * (1 + sign * (0.003 + off)), 1), share) for off, share in tps
        )
        req = OrderRequest(
            symbol, side, qty, price=price, leverage=leverage, margin_mode=mode, mark=marks[symbol],
            take_profits=targets,
        )  # fmt: skip
        engine.place_order(req)
    elif kind == "marks":
        marks[BTC] = max(100.0, round(marks[BTC] * (1 + action[1]), 1))
        marks[ETH] = max(10.0, round(marks[ETH] * (1 + action[2]), 1))
        for happened in engine.on_marks(dict(marks)):
            if happened.kind == "take_profit":
                left = engine.position(happened.symbol)
                event("a take-profit level filled" + (", the position still open" if left else ""))
        engine.on_spot_marks(_spot_prices(marks, basis))
    elif kind == "funding":
        engine.settle_funding(action[1], clock.now_ms(), action[2], marks[action[1]])
    elif kind == "close":
        pos = engine.position(action[1])
        if pos is not None:
            engine.close(action[1], round(max(pos.qty * action[2], 0.001), 3), mark=marks[action[1]])
    elif kind == "stop":
        pos = engine.position(action[1])
        if pos is not None:
            mark = marks[action[1]]
            level = mark * (1 - pos.sign * action[2]) if action[3] else mark * (1 + pos.sign * action[2])
            if action[3]:
                engine.set_stop(action[1], round(level, 1))
            else:
                far = round(mark * (1 + pos.sign * 2 * action[2]), 1)
                engine.set_take_profits(
                    action[1], (TakeProfitTarget(round(level, 1), 0.5), TakeProfitTarget(far, 0.5))
                )
    elif kind == "breakeven":
        if engine.position(action[1]) is not None:
            engine.set_stop(action[1], "breakeven" if action[2] else None)
    elif kind == "trail":
        if engine.position(action[1]) is not None:
            engine.set_trail(action[1], Trail("pct", action[2], f"{action[2]:.2%}"))
    elif kind == "deposit":
        engine.account.deposit(action[1])
    else:
        engine.account.withdraw(action[1])


def _check_levels(engine, stops: dict[str, tuple[float | None, float | None]]) -> None:
    """Take-profits within the position, on the step; a trailed stop only ever toward profit."""
    for pos in engine.positions():
        total = math.fsum(t.qty for t in pos.take_profits)
        assert total <= pos.qty + 1e-9, (pos.take_profits, pos.qty)
        for t in pos.take_profits:
            assert t.qty > 0 and abs(t.qty / 0.001 - round(t.qty / 0.001)) < 1e-6, t
        before = stops.get(pos.symbol)
        if pos.trail is not None and before is not None and before[0] == pos.opened_at and before[1]:
            assert pos.stop is not None and (pos.stop - before[1]) * pos.sign >= -1e-9
        stops[pos.symbol] = (pos.opened_at, pos.stop if pos.trail is not None else None)


def _check(engine, marks: dict[str, float], basis: list[float]) -> None:
    summary = engine.account.summary(marks=marks)
    flows = engine.account.cash_flows()
    transfers = math.fsum(f.signed for f in flows if f.kind in ("opening", "deposit", "withdrawal"))
    fills = engine.fills()
    payments = engine.funding_payments()
    positions = engine.positions()
    realized = math.fsum(f.realized_pnl + f.liquidation_loss for f in fills)
    fees = math.fsum(f.fee for f in fills)
    funding = math.fsum(p.amount for p in payments)
    upnl = math.fsum(p.upnl(marks[p.symbol]) for p in positions)
    spot_fills = engine.spot_fills()
    realized += math.fsum(f.realized_pnl for f in spot_fills)
    fees += math.fsum(f.fee for f in spot_fills)
    prices = _spot_prices(marks, basis)
    holdings = engine.spot_holdings()
    upnl += math.fsum(h.qty * (prices[h.symbol] - h.entry) for h in holdings)
    assert summary.equity is not None
    assert summary.equity == _approx(transfers + realized + upnl + funding - fees)
    # The spot held = the sum of the signed spot fills; each pair's legs: its spot held, its perp short.
    spot_net: dict[str, float] = defaultdict(float)
    for f in spot_fills:
        spot_net[f.symbol] += f.qty if f.side == "buy" else -f.qty
    for symbol, net_qty in spot_net.items():
        held = next((h.qty for h in holdings if h.symbol == symbol), 0.0)
        assert abs(net_qty - held) < 1e-9
    for pair in engine.pairs():
        leg = engine.position(pair.symbol)
        assert leg is None or (leg.side == "short" and leg.qty >= pair.qty - 1e-9)
        assert next(h.qty for h in holdings if h.symbol == pair.spot_symbol) >= pair.qty - 1e-9
    assert summary.unrealized_pnl == _approx(upnl)
    upnl = math.fsum(p.upnl(marks[p.symbol]) for p in positions)
    # Realised + unrealised from cash alone (no entries): every fill's cash plus the positions' value.
    trade_cash = math.fsum((-1 if f.side == "long" else 1) * f.qty * f.price for f in fills)
    value = math.fsum(p.sign * p.qty * marks[p.symbol] for p in positions)
    realized_trades = math.fsum(f.realized_pnl for f in fills)
    assert realized_trades + upnl == _approx(trade_cash + value, tol=1e-5)
    net: dict[str, float] = defaultdict(float)
    for f in fills:
        net[f.symbol] += f.qty if f.side == "long" else -f.qty
    for symbol in SYMBOLS:
        pos = next((p for p in positions if p.symbol == symbol), None)
        held = 0.0 if pos is None else pos.sign * pos.qty
        assert abs(net[symbol] - held) < 1e-9, (symbol, net[symbol], held)


def _approx(value: float, tol: float = 1e-6):
    import pytest

    return pytest.approx(value, abs=tol)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=orders,
    steps=st.lists(actions, min_size=5, max_size=40),
    slippage=st.sampled_from([0.0, 0.0005, 0.003]),
)
def test_equity_is_transfers_plus_pnl_plus_funding_minus_fees_at_every_step(first, steps, slippage) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(":memory:") as store:
        engine = make_engine(store, clock, capital=5_000.0, slippage=slippage)
        with_spot_twins(engine)
        marks, basis = dict(START), [0.001]
        engine.on_marks(dict(marks))
        engine.on_spot_marks(_spot_prices(marks, basis))
        stops: dict[str, tuple[float | None, float | None]] = {}
        for action in [first, *steps]:
            clock.advance(60_000)
            with contextlib.suppress(UsageError):  # refused: nothing recorded, the invariants still hold
                _step(engine, clock, marks, action, basis)
            _check(engine, marks, basis)
            if action[0] not in ("marks", "funding", "basis"):  # the trader moved the stop (or the position)
                stops.clear()
            _check_levels(engine, stops)  # between the trader's moves the trail only raises the stop
