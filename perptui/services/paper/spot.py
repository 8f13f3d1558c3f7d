"""Spot orders on the paper account: bought and sold on a perp's spot twin, at the spot price.

A market order fills at once at the spot price moved by the slippage (spot taker fee); a limit order
fills at once as a taker when marketable, else rests until the spot price reaches it (spot maker fee,
checked against the free margin when it fills: a buy that no longer fits is cancelled). Every order
goes through the spot market's rules (step, minimum quantity and notional, tick) and the circuit breaker
(a sale only reduces: always allowed). Selling more than is held is refused (no borrowed spot).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.market_rules import OrderSpec, refuse
from perptui.domain.paper_spot import NO_SPOT_SHORT, SpotSide, spot_fill, spot_rules, spot_taker_price
from perptui.domain.risk_breaker import order_allowed
from perptui.domain.types import Market
from perptui.presentation.numbers import market_price, market_qty
from perptui.services.paper.breaker import state_in
from perptui.services.paper.execute import snapshot
from perptui.services.paper.state import BookState
from perptui.services.store import paper_book, paper_spot
from perptui.services.store.paper_spot import SpotFill, SpotOrder

if TYPE_CHECKING:
    from perptui.services.paper.ledger import Ledger


@dataclass(frozen=True, slots=True)
class SpotResult:
    order: SpotOrder
    fill: SpotFill | None
    state: BookState
    message: str


def spot_market(ledger: Ledger, name: str) -> Market:
    """The perp whose spot twin ``name`` trades (``BTC``, ``BTCDEMO/USDT`` and the perp's names)."""
    text = name.strip()
    if "/" in text and ":" not in text:  # a spot symbol: its perp is <spot>:<quote>
        text = f"{text}:{text.split('/', 1)[1]}"
    market = ledger.book.market(text)
    if market.spot_symbol is None:
        raise UsageError(f"{market.symbol} has no spot market on {ledger.exchange}: it cannot be carried")
    return market


def order_in(
    ledger: Ledger,
    conn: sqlite3.Connection,
    st: BookState,
    perp: Market,
    side: SpotSide,
    qty: float,
    spot: float,
    now: int,
    *,
    price: float | None = None,
    reason: str = "order",
) -> SpotResult:
    """Place a spot order inside the caller's transaction (refusals raise UsageError before writing)."""
    assert perp.spot_symbol is not None
    symbol, exchange = perp.spot_symbol, ledger.exchange
    rules = spot_rules(perp)
    held = st.holding(exchange, symbol)
    selling = side == "sell"
    if selling and (held is None or qty > held.qty * (1 + 1e-12)):
        have = market_qty(held.qty if held else 0.0, perp)
        raise UsageError(
            f"cannot sell {market_qty(qty, perp)} {perp.base} spot: {have} held; {NO_SPOT_SHORT}"
        )
    pair = next((p for p in st.pairs if p.exchange == exchange and p.spot_symbol == symbol), None)
    if (
        selling
        and reason == "order"
        and pair is not None
        and held is not None
        and qty > held.qty - pair.qty + 1e-12
    ):
        raise UsageError(
            f"{market_qty(pair.qty, perp)} {perp.base} spot is the spot leg of the {perp.symbol} carry pair: "
            f"close the pair with 'perptui paper carry close {perp.base}' "
            "(selling it would leave the perp short naked)"
        )
    allowed, why = order_allowed(state_in(conn, st.account, now), selling)
    if not allowed:
        raise UsageError(why)
    closes_all = selling and held is not None and abs(qty - held.qty) <= held.qty * 1e-12
    refuse(
        rules,
        OrderSpec(
            "long" if side == "buy" else "short", qty, price=price, mark=spot, reducing=selling,
            closes_all=closes_all,
        ),
    )  # fmt: skip
    taker = spot_taker_price(spot, side, ledger.config.slippage)
    marketable = price is None or (price >= spot if side == "buy" else price <= spot)
    if price is not None and marketable:  # never worse than the limit
        taker = min(taker, price) if side == "buy" else max(taker, price)
    kind = "market" if price is None else "limit"
    order = SpotOrder(0, exchange, symbol, side, kind, qty, price, "open", now, now)
    if not marketable:
        order = paper_spot.insert_order(conn, st.account, order)
        text = (
            f"limit {side} {market_qty(qty, perp)} {symbol} at {market_price(price, perp)} rests; #{order.id}"
        )
        return SpotResult(order, None, st, text)
    order = paper_spot.insert_order(conn, st.account, order)
    return fill_in(ledger, conn, st, perp, order, taker, ledger.config.spot_taker_fee, "taker", now, reason)


def fill_in(
    ledger: Ledger,
    conn: sqlite3.Connection,
    st: BookState,
    perp: Market,
    order: SpotOrder,
    price: float,
    fee_rate: float,
    liquidity: str,
    now: int,
    reason: str,
) -> SpotResult:
    """Fill ``order`` at ``price``: the holding, the fill row, fee and realised PnL as cash flows, an equity
    snapshot. A buy the free margin cannot pay (cost + fee) is refused."""
    exchange, symbol = ledger.exchange, order.symbol
    held = st.holding(exchange, symbol)
    side: SpotSide = "buy" if order.side == "buy" else "sell"
    outcome = spot_fill(
        held, exchange=exchange, symbol=symbol, base=perp.base, side=side, qty=order.qty, price=price,
        fee_rate=fee_rate, time=now,
    )  # fmt: skip
    after = st.with_holding(exchange, symbol, outcome.holding)
    wallet = st.wallet + outcome.realized_pnl - outcome.fee
    after = BookState(after.account, wallet, after.positions, after.orders, after.spot, after.pairs)
    if side == "buy":
        free = after.margin(ledger.tiers_of(after.positions)).free_margin
        if free < 0:
            was = st.margin(ledger.tiers_of(st.positions)).free_margin
            raise UsageError(
                f"not enough free USDT: this spot buy needs {order.qty * price + outcome.fee:,.2f} "
                "(cost + fee) "
                f"and {max(was, 0.0):,.2f} is free; lower the quantity"
            )
    fill = paper_spot.insert_fill(
        conn, st.account,
        SpotFill(0, order.id, exchange, symbol, now, side, order.qty, price, outcome.fee,
                 outcome.realized_pnl, liquidity, reason),
    )  # fmt: skip
    paper_book.add_trade_flow(conn, st.account, now, "realized_pnl", outcome.realized_pnl)
    paper_book.add_trade_flow(conn, st.account, now, "fee", -outcome.fee)
    paper_spot.save_holding(conn, st.account, exchange, symbol, outcome.holding)
    paper_spot.set_order_status(conn, st.account, order.id, "filled", now)
    snapshot(conn, after, now)
    text = f"spot {side} {market_qty(order.qty, perp)} {symbol} filled at {market_price(price, perp)}"
    text += f", fee {fill.fee:,.2f}"
    if fill.realized_pnl:
        text += f", realised {fill.realized_pnl:+,.2f}"
    return SpotResult(order, fill, after, text)


def fill_resting(ledger: Ledger, spot_marks: dict[str, float], now: int) -> list[SpotResult]:
    """Fill the resting spot limits the new spot prices reach (maker fee), each in its own transaction; a
    buy the free margin can no longer pay is cancelled with the reason."""
    done: list[SpotResult] = []
    with ledger.store.reading() as conn:
        resting = paper_spot.load_orders(conn, ledger.account.name, ledger.exchange, open_only=True)
    for order in resting:
        spot = spot_marks.get(order.symbol)
        assert order.price is not None
        if spot is None or not (spot <= order.price if order.side == "buy" else spot >= order.price):
            continue
        perp = spot_market(ledger, order.symbol)
        try:
            with ledger.store.writing() as conn:
                st = ledger.state(conn)
                done.append(
                    fill_in(ledger, conn, st, perp, order, order.price, ledger.config.spot_maker_fee, "maker",
                            now, "order")
                )  # fmt: skip
        except UsageError as exc:
            with ledger.store.writing() as conn:
                paper_spot.set_order_status(conn, ledger.account.name, order.id, "cancelled", now, str(exc))
    return done
