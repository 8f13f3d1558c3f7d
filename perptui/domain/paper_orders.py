"""Checks on a paper order before it touches the ledger: one-line UsageErrors a trader can act on. Pure."""

from __future__ import annotations

import math

from perptui.domain import precision as fmt
from perptui.domain.errors import UsageError
from perptui.domain.paper import OrderRequest, PaperPosition, check_shares
from perptui.domain.quantities import MAX_LEVERAGE
from perptui.domain.types import Side


def _num(value: float) -> str:
    """A price or quantity as given (its market is not known here), never an exponent."""
    return fmt.num(value, 10)


def _positive(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UsageError(f"{name} must be a number above 0, not {value!r}")
    return float(value)


def check_request(req: OrderRequest) -> OrderRequest:
    """Sides, quantities and prices that make sense on their own (before any market data)."""
    if req.side not in ("long", "short"):
        raise UsageError(f"side must be long or short, not {req.side!r}")
    _positive("the quantity", req.qty)
    if req.price is not None:
        _positive("the limit price", req.price)
    if req.leverage is not None:
        lev = _positive("leverage", req.leverage)
        if not 1 <= lev <= MAX_LEVERAGE:
            raise UsageError(f"leverage must be from 1 to {MAX_LEVERAGE:g}, not {_num(lev)}")
    if req.margin_mode not in (None, "isolated", "cross"):
        raise UsageError(f"margin mode must be isolated or cross, not {req.margin_mode!r}")
    for name, value in (("the stop", req.stop), ("the mark", req.mark)):
        if value is not None:
            _positive(name, value)
    for tp in req.take_profits:
        _positive("the take-profit", tp.price)
    check_shares(req.take_profits)
    if req.reduce_only and (req.stop is not None or req.take_profits):
        raise UsageError("a close takes no --stop or --tp: set them on the position instead")
    return req


def check_stop(side: Side, stop: float, reference: float, what: str = "the mark") -> None:
    """A long's stop-loss lies below ``reference`` (the fill or the mark), a short's above; else it would
    trigger at once."""
    if side == "long" and stop >= reference:
        raise UsageError(f"a long's stop {_num(stop)} must be below {what} {_num(reference)}")
    if side == "short" and stop <= reference:
        raise UsageError(f"a short's stop {_num(stop)} must be above {what} {_num(reference)}")


def check_take_profit(side: Side, tp: float, reference: float, what: str = "the mark") -> None:
    if side == "long" and tp <= reference:
        raise UsageError(f"a long's take-profit {_num(tp)} must be above {what} {_num(reference)}")
    if side == "short" and tp >= reference:
        raise UsageError(f"a short's take-profit {_num(tp)} must be below {what} {_num(reference)}")


def check_same_terms(position: PaperPosition, req: OrderRequest) -> None:
    """Adding to a position keeps its margin mode and leverage (one-way mode, one position a symbol)."""
    if position.side != req.side:
        return
    if req.margin_mode is not None and req.margin_mode != position.margin_mode:
        raise UsageError(
            f"{position.symbol} is open in {position.margin_mode} margin: close it before trading it in "
            f"{req.margin_mode} margin"
        )
    if req.leverage is not None and abs(req.leverage - position.leverage) > 1e-9:
        raise UsageError(
            f"{position.symbol} is open at {_num(position.leverage)}x: add at that leverage (leave "
            "--leverage out) or close it first"
        )
