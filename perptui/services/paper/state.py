"""The book as one transaction sees it: wallet, positions, open orders; and the values derived from it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from perptui.domain.account import from_units
from perptui.domain.liquidation import liquidation_price
from perptui.domain.paper import PaperOrder, PaperPosition
from perptui.domain.paper_margin import MarginState, margin_state, position_risks
from perptui.domain.paper_spot import CarryPair, SpotHolding
from perptui.domain.risk_breaker import is_reducing
from perptui.domain.risk_position import PositionRisk
from perptui.domain.types import LeverageTier
from perptui.services.store import ledger, paper_book, paper_spot

TiersOf = Callable[[PaperPosition], Sequence[LeverageTier]]


@dataclass(frozen=True, slots=True)
class BookState:
    """Every position and open order of the account (all exchanges: margin is account-wide)."""

    account: str
    wallet: float
    positions: tuple[PaperPosition, ...]
    orders: tuple[PaperOrder, ...]
    spot: tuple[SpotHolding, ...] = ()
    pairs: tuple[CarryPair, ...] = ()

    def position(self, exchange: str, symbol: str) -> PaperPosition | None:
        for p in self.positions:
            if p.exchange == exchange and p.symbol == symbol:
                return p
        return None

    def holding(self, exchange: str, symbol: str) -> SpotHolding | None:
        """The spot holding of the spot market ``symbol``."""
        return next((h for h in self.spot if h.exchange == exchange and h.symbol == symbol), None)

    def pair(self, exchange: str, symbol: str) -> CarryPair | None:
        """The carry pair whose perp leg is ``symbol``."""
        return next((p for p in self.pairs if p.exchange == exchange and p.symbol == symbol), None)

    def with_holding(self, exchange: str, symbol: str, holding: SpotHolding | None) -> BookState:
        others = tuple(h for h in self.spot if not (h.exchange == exchange and h.symbol == symbol))
        return replace(self, spot=others + ((holding,) if holding is not None else ()))

    def with_spot_marks(self, exchange: str, marks: Mapping[str, float]) -> BookState:
        """The holdings of ``exchange`` at these spot prices (by spot symbol)."""
        spot = tuple(
            replace(h, last_mark=marks[h.symbol]) if h.exchange == exchange and h.symbol in marks else h
            for h in self.spot
        )
        return replace(self, spot=spot)

    def orders_of(self, exchange: str, symbol: str) -> list[PaperOrder]:
        return [o for o in self.orders if o.exchange == exchange and o.symbol == symbol]

    def with_marks(self, exchange: str, marks: Mapping[str, float]) -> BookState:
        """The positions of ``exchange`` carrying these marks as their last mark."""
        positions = tuple(
            p.with_(last_mark=marks[p.symbol]) if p.exchange == exchange and p.symbol in marks else p
            for p in self.positions
        )
        return replace(self, positions=positions)

    def with_position(self, exchange: str, symbol: str, position: PaperPosition | None) -> BookState:
        others = tuple(p for p in self.positions if not (p.exchange == exchange and p.symbol == symbol))
        return replace(self, positions=others + ((position,) if position is not None else ()))

    def reserved(self) -> float:
        """Initial margin held by resting limits that may open or add: qty x price / leverage. A limit
        on the other side of its position and no larger than it only reduces: nothing held. (Their maker
        fee is checked when they fill.)"""
        held = {(p.exchange, p.symbol): (p.side, p.qty) for p in self.positions}
        return sum(
            o.qty * o.price / (o.leverage or 1.0)
            for o in self.orders
            if o.status == "open"
            and not o.reduce_only
            and o.price is not None
            and not is_reducing(o.side, o.qty, held.get((o.exchange, o.symbol)))
        )

    def margin(self, tiers_of: TiersOf) -> MarginState:
        """The account at the positions' marks, resting limits' margin reserved."""
        ms = margin_state(self.wallet, self.positions, {}, tiers_of, self.reserved())
        if not self.spot:
            return ms
        # spot ties up its cost (bought with the quote, 1x) and adds its value over cost to equity
        cost = sum(h.cost for h in self.spot)
        upnl = sum(h.upnl() for h in self.spot)
        value = sum(h.value() for h in self.spot)
        return replace(
            ms,
            unrealized_pnl=ms.unrealized_pnl + upnl,
            equity=ms.equity + upnl,
            used_margin=ms.used_margin + cost,
            free_margin=ms.free_margin - cost + min(0.0, upnl),
            withdrawable=ms.withdrawable - cost + min(0.0, upnl),
            gross_notional=ms.gross_notional + value,
            net_notional=ms.net_notional + value,
        )

    def risks(self, tiers_of: TiersOf) -> list[PositionRisk]:
        """Per-position metrics (liquidation prices included) at the positions' own marks."""
        cross_wallet = self.wallet - sum(
            p.isolated_margin for p in self.positions if p.margin_mode == "isolated"
        )
        return position_risks(self.positions, {}, tiers_of, cross_wallet)

    def liq_price(self, position: PaperPosition, tiers_of: TiersOf) -> float | None:
        """The position's liquidation price (None: never liquidated). An isolated one depends on itself
        only, so the other positions are not looked at (catch-up asks this for every mark)."""
        if position.margin_mode == "isolated":
            liq = liquidation_price(
                position.side, position.qty, position.entry, position.isolated_margin, tiers_of(position)
            )
            return liq.price if liq else None
        risk = self.risk_of(position.exchange, position.symbol, tiers_of)
        return risk.liq_price if risk else None

    def risk_of(self, exchange: str, symbol: str, tiers_of: TiersOf) -> PositionRisk | None:
        for p, risk in zip(self.positions, self.risks(tiers_of), strict=True):
            if p.exchange == exchange and p.symbol == symbol:
                return risk
        return None


def load_state(conn: sqlite3.Connection, account: str) -> BookState:
    units = ledger.cash_balance_units(conn, account)
    return BookState(
        account=account,
        wallet=0.0 if units is None else from_units(units),
        positions=tuple(paper_book.load_positions(conn, account)),
        orders=tuple(paper_book.load_orders(conn, account, open_only=True)),
        spot=tuple(paper_spot.load_holdings(conn, account)),
        pairs=tuple(paper_spot.load_pairs(conn, account)),
    )
