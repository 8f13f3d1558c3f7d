"""Carry pairs and spot holdings in the portfolio's risk: one hedged row per pair, net exposure. Pure.

A pair (long Q spot + short Q perp) is one row: both legs, the net delta (spot quantity - perp short,
0 while whole), the net exposure (spot value - perp notional: the basis times Q), the basis (perp mark /
spot price - 1), the funding a day on the perp leg and the perp leg's liquidation distance. The
portfolio counts a pair's NET exposure in its gross figure (the hedged part, 2 x min(legs), comes off),
spot holdings outside a pair at their value; VaR sees the spot value on the perp's symbol (same
asset), so the two legs cancel there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from perptui.domain.paper_spot import CarryPair, SpotHolding
from perptui.domain.risk_position import PositionRisk


@dataclass(frozen=True, slots=True)
class PairRow:
    symbol: str
    spot_symbol: str
    qty: float
    perp: PositionRisk | None  # None: the perp leg is gone (liquidated)
    spot_qty: float
    spot_price: float | None
    spot_value: float | None
    spot_entry: float | None
    net_delta: float  # spot held - perp short, in the coin
    net_exposure: float | None  # spot value - perp notional
    basis: float | None  # perp mark / spot price - 1
    funding_per_day: float | None  # on the perp leg, + received
    liq_distance: float | None  # the perp leg's


@dataclass(frozen=True, slots=True)
class SpotBook:
    """What spot adds to the portfolio figures."""

    upnl: float
    value: float  # every holding at its spot price (net exposure adds it)
    hedged: float  # taken off the gross: 2 x min(perp notional, spot value) of each pair
    pairs: tuple[PairRow, ...]
    unpaired: tuple[SpotHolding, ...]


def perp_of(spot_symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC/USDT:USDT``: the linear perp settled in the spot market's quote."""
    return f"{spot_symbol}:{spot_symbol.split('/', 1)[-1]}"


def with_spot_exposures(
    by_symbol: Mapping[str, float] | None, pairs: Sequence[PairRow], unpaired: Sequence[SpotHolding]
) -> dict[str, float] | None:
    """Signed exposures by perp symbol with each spot leg's value added on its perp's symbol (the same
    asset): a pair's legs net to its basis, so VaR treats them as hedged."""
    if by_symbol is None:
        return None
    out = dict(by_symbol)
    for row in pairs:
        if row.spot_value is not None:
            out[row.symbol] = out.get(row.symbol, 0.0) + row.spot_value
    for h in unpaired:
        out[perp_of(h.symbol)] = out.get(perp_of(h.symbol), 0.0) + h.value()
    return out


def spot_book(
    risks: Sequence[PositionRisk], holdings: Sequence[SpotHolding], pairs: Sequence[CarryPair]
) -> SpotBook:
    by_symbol = {r.symbol: r for r in risks}
    held = {h.symbol: h for h in holdings}
    rows: list[PairRow] = []
    hedged = 0.0
    paired_qty: dict[str, float] = {}
    for pair in pairs:
        perp = by_symbol.get(pair.symbol)
        h = held.get(pair.spot_symbol)
        spot_qty = min(pair.qty, h.qty) if h is not None else 0.0
        paired_qty[pair.spot_symbol] = spot_qty
        price = h.price() if h is not None else None
        spot_value = spot_qty * price if price is not None else None
        short = perp.qty if perp is not None and perp.side == "short" else 0.0
        perp_notional = short * perp.mark if perp is not None and perp.mark else 0.0
        net = spot_value - perp_notional if spot_value is not None else None
        basis = perp.mark / price - 1 if perp is not None and perp.mark and price else None
        funding = None
        if perp is not None and perp.funding_apr is not None and perp.notional is not None:
            funding = perp.funding_apr * perp.notional / 365
        if spot_value is not None:
            hedged += 2 * min(perp_notional, spot_value)
        rows.append(
            PairRow(
                pair.symbol, pair.spot_symbol, pair.qty, perp, spot_qty, price, spot_value,
                h.entry if h is not None else None, round(spot_qty - short, 10), net, basis, funding,
                perp.liq_distance if perp is not None else None,
            )
        )  # fmt: skip
    unpaired = []
    for h in holdings:
        left = h.qty - paired_qty.get(h.symbol, 0.0)
        if left > 1e-12:
            unpaired.append(
                SpotHolding(h.exchange, h.symbol, h.base, left, h.entry, h.opened_at, h.last_mark)
            )
    return SpotBook(
        upnl=math.fsum(h.upnl() for h in holdings),
        value=math.fsum(h.value() for h in holdings),
        hedged=hedged,
        pairs=tuple(rows),
        unpaired=tuple(unpaired),
    )
