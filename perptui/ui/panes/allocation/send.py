"""Sending the plan's perp trades to the paper account: the order requests (at the marks the plan was
solved on), a rehearsal on the paper engine saying which it would refuse (a tripped circuit breaker
refuses every order that opens or adds), and the placing. No Textual; every call blocks (run it in a
thread)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.paper import OrderRequest

if TYPE_CHECKING:
    from perptui.domain.plan import PlanInputs, PlanTrade
    from perptui.services.paper.engine import PaperEngine


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """Each perp trade (in the order sent), its order, and why the engine would refuse it (None: fills)."""

    trades: list[PlanTrade]
    requests: list[OrderRequest]
    refusals: list[str | None]

    @property
    def refused(self) -> list[str]:
        """``"SYMBOL: why"`` for each order the engine would refuse."""
        return [f"{t.symbol}: {why}" for t, why in zip(self.trades, self.refusals, strict=True) if why]

    @property
    def refused_symbols(self) -> frozenset[str]:
        return frozenset(t.symbol for t, why in zip(self.trades, self.refusals, strict=True) if why)

    @property
    def sendable(self) -> list[OrderRequest]:
        return [r for r, why in zip(self.requests, self.refusals, strict=True) if not why]


def rehearse(engine: PaperEngine, trades: list[PlanTrade], inputs: PlanInputs | None) -> Rehearsal:
    """Place ``trades`` (reduce-only first: they free margin) on the engine and undo it all."""
    marks = inputs.marks if inputs is not None else {}
    if inputs is not None:
        engine.book.use(inputs.markets.values())
    requests = [
        OrderRequest(t.symbol, t.side, t.qty, reduce_only=t.reduce_only, mark=marks.get(t.symbol))
        for t in trades
    ]
    return Rehearsal(trades, requests, engine.rehearse(lambda: place_all(engine, requests)))


def place_all(engine: PaperEngine, requests: Sequence[OrderRequest]) -> list[str | None]:
    """Place each order in turn: None where it filled, the refusal where the engine refused it."""
    outcome: list[str | None] = []
    for request in requests:
        try:
            engine.place_order(request)
        except UsageError as exc:
            outcome.append(str(exc))
        else:
            outcome.append(None)
    return outcome
