"""Sending the plan's trades to the paper account: each carry pair of the neutral base as a pair (spot +
perp short in one transaction, both or neither) and each remaining perp trade as an order, at the marks
and spot prices the plan was solved on; a rehearsal on the paper engine saying which it would refuse and
why, the cost of the rebalance (fees and slippage) and the gross and net exposure it leaves; then the
placing. Nothing is ever sent that would leave a carry perp leg without its spot leg: a spot trade becomes
a pair open or close, and the perp trade of the same symbol gives the pair's short its part. No Textual;
every call blocks (run it in a thread)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from perptui.domain.errors import UsageError
from perptui.domain.paper import OrderRequest
from perptui.domain.paper_spot import NO_SPOT_SHORT

if TYPE_CHECKING:
    from perptui.domain.plan import PlanInputs, PlanTrade
    from perptui.domain.types import Side
    from perptui.services.paper.engine import PaperEngine

SendKind = Literal["pair", "unpair", "order"]


@dataclass(frozen=True, slots=True)
class SendItem:
    """One thing sent: a pair opened (``pair``) or closed (``unpair``) of ``qty``, or a perp ``order``."""

    kind: SendKind
    symbol: str
    side: Side  # the perp leg's side ("short" for a pair)
    qty: float
    reduce_only: bool
    mark: float | None
    spot: float | None
    refused_upfront: str | None = None  # a leg the paper account can never place (no borrowed spot)

    @property
    def notional(self) -> float | None:
        return None if self.mark is None else self.qty * self.mark


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """Each item (in the order sent), why the engine would refuse it (None: it fills), the cost of the
    rebalance (fees paid + slippage against the marks) and the exposure after it."""

    items: list[SendItem]
    refusals: list[str | None]
    fees: float
    slippage: float
    gross: float | None
    net: float | None

    @property
    def refused(self) -> list[str]:
        """``"SYMBOL: why"`` for each item the engine would refuse."""
        return [f"{i.symbol}: {why}" for i, why in zip(self.items, self.refusals, strict=True) if why]

    @property
    def refused_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset((i.kind, i.symbol) for i, why in zip(self.items, self.refusals, strict=True) if why)

    @property
    def sendable(self) -> list[SendItem]:
        return [i for i, why in zip(self.items, self.refusals, strict=True) if not why]


def send_items(trades: Sequence[PlanTrade], inputs: PlanInputs | None) -> list[SendItem]:
    """The plan's trades as what is sent: a spot buy opens a pair of its quantity (taking that much of
    the symbol's perp short trade), a spot sale closes that much of the pair; what is left of a perp trade
    is an order. Reducing first (they free margin), then pairs, then the orders that open or add."""
    marks = inputs.marks if inputs is not None else {}
    rates = inputs.current_rates if inputs is not None else {}
    perp: dict[str, float] = {}
    reduce_perp: dict[str, bool] = {}
    for t in trades:
        if t.leg == "perp":
            perp[t.symbol] = perp.get(t.symbol, 0.0) + (t.qty if t.side == "long" else -t.qty)
            reduce_perp[t.symbol] = reduce_perp.get(t.symbol, True) and t.reduce_only
    pairs: list[SendItem] = []
    for t in trades:
        if t.leg != "spot":
            continue
        rate = rates.get(t.symbol)
        spot = rate.index if rate is not None and rate.index else None
        mark = marks.get(t.symbol)
        if t.side == "long" and not t.reduce_only:
            pairs.append(SendItem("pair", t.symbol, "short", t.qty, False, mark, spot))
            perp[t.symbol] = perp.get(t.symbol, 0.0) + t.qty  # the pair's short is part of the perp trade
        elif t.side == "short" and t.reduce_only:
            pairs.append(SendItem("unpair", t.symbol, "long", t.qty, True, mark, spot))
            perp[t.symbol] = perp.get(t.symbol, 0.0) - t.qty
        else:  # a spot short: a negative-funding carry needs borrowed spot
            why = f"a long perp + short spot pair is refused: {NO_SPOT_SHORT}"
            pairs.append(SendItem("pair", t.symbol, "long", t.qty, False, mark, spot, why))
            perp[t.symbol] = perp.get(t.symbol, 0.0) - t.qty  # nor is its perp leg sent alone
    orders = [
        SendItem("order", s, "long" if q > 0 else "short", round(abs(q), 10), reduce_perp.get(s, False),
                 marks.get(s), None)
        for s, q in perp.items()
        if abs(q) > 1e-12
    ]  # fmt: skip
    first = [i for i in [*pairs, *orders] if i.reduce_only]
    return first + [i for i in pairs if not i.reduce_only] + [i for i in orders if not i.reduce_only]


def rehearse(engine: PaperEngine, items: list[SendItem], inputs: PlanInputs | None) -> Rehearsal:
    """Place ``items`` on the engine and undo it all: the refusals, the fees and slippage, the exposure
    after."""
    if inputs is not None:
        engine.book.use(inputs.markets.values())

    def run() -> Rehearsal:
        before = len(engine.fills()), len(engine.spot_fills())
        refusals = place_all(engine, items)
        fills, spot_fills = engine.fills()[before[0] :], engine.spot_fills()[before[1] :]
        fees = sum(f.fee for f in fills) + sum(f.fee for f in spot_fills)
        slippage = sum(abs(f.price - f.mark) * f.qty for f in fills if f.mark is not None)
        spot_of = {i.symbol: i.spot for i in items}
        for f in spot_fills:
            perp = f"{f.symbol}:{f.symbol.split('/', 1)[-1]}"
            if spot := spot_of.get(perp):
                slippage += abs(f.price - spot) * f.qty
        portfolio = engine.account.portfolio(marks=dict(engine.marks))
        return Rehearsal(items, refusals, fees, slippage, portfolio.gross_exposure, portfolio.net_exposure)

    return engine.rehearse(run)


def place_all(engine: PaperEngine, items: Sequence[SendItem]) -> list[str | None]:
    """Place each item in turn: None where it filled, the refusal where the engine refused it (a pair
    refused leaves neither leg)."""
    outcome: list[str | None] = []
    for item in items:
        if item.refused_upfront:
            outcome.append(item.refused_upfront)
            continue
        try:
            if item.kind == "pair":
                engine.open_pair(item.symbol, item.qty, mark=item.mark, spot=item.spot)
            elif item.kind == "unpair":
                engine.close_pair(item.symbol, item.qty, mark=item.mark, spot=item.spot)
            else:
                req = OrderRequest(
                    item.symbol, item.side, item.qty, reduce_only=item.reduce_only, mark=item.mark
                )
                engine.place_order(req)
        except UsageError as exc:
            outcome.append(str(exc))
        else:
            outcome.append(None)
    return outcome
