"""Funding on paper positions: settled at each funding time of the market's own interval.

Live: ``on_rates`` remembers each symbol's announced rate and funding time (``FundingRate.rate`` is the
rate settled at ``next_funding_time``); once that time has passed it is settled with that rate at the
latest mark. After a restart, ``catchup`` settles the prints in the cache. A settlement is recorded once
per (position symbol, time) whatever path reaches it first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from perptui.domain.paper_triggers import funding_due
from perptui.domain.risk_position import PositionInput
from perptui.domain.types import FundingRate
from perptui.presentation.numbers import market_qty
from perptui.services.paper import marks
from perptui.services.paper.events import PaperEvent
from perptui.services.paper.execute import book_funding

if TYPE_CHECKING:
    from perptui.services.paper.ledger import Ledger


def settle(ledger: Ledger, symbol: str, time: int, rate: float, mark: float) -> list[PaperEvent]:
    """Settle ``time`` on the symbol's position (one transaction), then check its liquidation."""
    with ledger.store.writing() as conn:
        st = ledger.state(conn)
        pos = st.position(ledger.exchange, symbol)
        if pos is None or not funding_due(pos, time):
            return []
        booked = book_funding(conn, st, pos, time, rate, mark)
    if booked is None:
        return []
    payment, _ = booked
    verb = "received" if payment.amount >= 0 else "paid"
    message = (
        f"{symbol} funding {rate * 100:+.4f}% on {pos.side} {market_qty(pos.qty, ledger.book.get(symbol))}: "
        f"{verb} {abs(payment.amount):,.4f}"
    )
    events = [PaperEvent(time, "funding", symbol, message, funding=payment)]
    events += marks.process(ledger, {symbol: mark}, time)[0]
    return events


def on_rates(ledger: Ledger, rates: Mapping[str, FundingRate], now: int) -> list[PaperEvent]:
    events: list[PaperEvent] = []
    held = {p.symbol for p in ledger.read_state().positions if p.exchange == ledger.exchange}
    for symbol, fresh in sorted(rates.items()):
        if fresh.mark:
            ledger.note_marks({symbol: fresh.mark}, now)
        known = ledger.rates.get(symbol)
        ledger.rates[symbol] = fresh
        if known is None or known.rate is None or known.next_funding_time is None:
            continue
        if known.next_funding_time <= now and symbol in held:
            mark = ledger.marks.get(symbol) or known.mark
            if mark:
                events += settle(ledger, symbol, known.next_funding_time, known.rate, mark)
    return events


def position_inputs(ledger: Ledger) -> list[PositionInput]:
    """The ledger's positions for the risk metrics, with the remembered funding state of each."""
    from perptui.domain.paper_margin import position_inputs as inputs_of

    st = ledger.read_state()
    tiers_of = ledger.tiers_of(st.positions)
    cross_wallet = st.wallet - sum(p.isolated_margin for p in st.positions if p.margin_mode == "isolated")
    result = []
    for p, item in zip(st.positions, inputs_of(st.positions, {}, tiers_of, cross_wallet), strict=True):
        if p.exchange != ledger.exchange:
            continue
        fr = ledger.rates.get(p.symbol)
        market = ledger.book.get(p.symbol)
        interval = (
            fr.interval_hours
            if fr and fr.interval_hours
            else (market.funding_interval_hours if market else None)
        )
        result.append(
            replace(
                item,
                funding_rate=fr.rate if fr else None,
                funding_interval_hours=interval,
                next_funding_time=fr.next_funding_time if fr else None,
                price_tick=market.price_tick if market else None,
                amount_step=market.amount_step if market else None,
            )
        )
    return result
