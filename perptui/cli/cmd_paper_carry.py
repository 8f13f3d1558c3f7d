"""`perptui paper carry open|close` and `perptui paper spot`: carry pairs and spot on the paper account.

A pair's two legs (long spot on the perp's spot twin, short perp of the same quantity) are written in one
transaction: both or neither. ``--notional`` sizes the pair at the spot price, rounded down to the
markets' step. Like ``paper order``, a terminal asks before anything is placed (``--yes`` skips it).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.market_rules import round_qty
from perptui.domain.paper_spot import spot_rules
from perptui.presentation.numbers import market_price, market_qty

from .output import print_json, say

if TYPE_CHECKING:
    from perptui.domain.paper_spot import CarryPair, SpotHolding
    from perptui.domain.types import Market
    from perptui.services.paper.engine import PaperEngine
    from perptui.services.paper.session import Session


def _prices(session: Session, perp: Market) -> tuple[float, float]:
    engine = session.engine
    mark = engine.marks.get(perp.symbol)
    assert perp.spot_symbol is not None
    spot = engine.ledger.spot_marks.get(perp.spot_symbol)
    if mark is None or spot is None:
        where = f"from {engine.exchange}" if session.live else "offline (spot prices are not cached)"
        missing = "mark" if mark is None else "spot price"
        raise UsageError(f"no {missing} of {perp.symbol} is known {where}: cannot trade the pair")
    return mark, spot


def pair_qty(perp: Market, qty: float | None, notional: float | None, spot: float) -> float:
    """The pair's quantity: ``qty``, or ``notional`` at the spot price rounded down to the step."""
    if qty is not None:
        return qty
    assert notional is not None
    sized = round_qty(spot_rules(perp), notional / spot)
    if sized <= 0:
        raise UsageError(
            f"{notional:,.2f} buys less than one step of {perp.base} at {market_price(spot, perp)}: "
            "raise --notional"
        )
    return sized


def carry_open(session: Session, args: argparse.Namespace, as_json: bool) -> int:
    engine = session.engine
    perp = engine.spot_market(args.symbol)
    mark, spot = _prices(session, perp)
    qty = pair_qty(perp, args.qty, args.notional, spot)
    if not (args.yes or as_json) and sys.stdin.isatty() and not _confirm(engine, perp, qty, mark, spot):
        say("nothing placed")
        return 1
    result = engine.open_pair(perp.symbol, qty, mark=mark, spot=spot, leverage=args.leverage)
    return _report(session, result.pair, result.message, as_json)


def carry_close(session: Session, args: argparse.Namespace, as_json: bool) -> int:
    engine = session.engine
    perp = engine.spot_market(args.symbol)
    mark, spot = _prices(session, perp)
    result = engine.close_pair(perp.symbol, args.qty, mark=mark, spot=spot)
    return _report(session, result.pair, result.message, as_json)


def spot_order(session: Session, args: argparse.Namespace, as_json: bool) -> int:
    engine = session.engine
    perp = engine.spot_market(args.symbol)
    assert perp.spot_symbol is not None
    spot = engine.ledger.spot_marks.get(perp.spot_symbol)
    if spot is None:
        raise UsageError(
            f"no spot price of {perp.spot_symbol} is known: run online (spot prices are not cached)"
        )
    result = engine.place_spot(perp.symbol, args.side, args.qty, price=args.price, spot=spot)
    if as_json:
        fill = result.fill
        print_json(
            {
                "account": engine.account.name,
                "exchange": engine.exchange,
                "order": {"id": result.order.id, "symbol": result.order.symbol, "side": result.order.side,
                          "kind": result.order.kind, "qty": result.order.qty, "price": result.order.price},
                "fill": None if fill is None else {"price": fill.price, "fee": fill.fee,
                                                   "realized_pnl": fill.realized_pnl},
                "message": result.message,
            }
        )  # fmt: skip
        return 0
    say(f"{engine.account.title}: {result.message}")
    return 0


def _confirm(engine: PaperEngine, perp: Market, qty: float, mark: float, spot: float) -> bool:
    question = (
        f"PAPER ({engine.account.title}) carry pair: buy {market_qty(qty, perp)} {perp.spot_symbol} spot "
        f"(~{market_price(spot, perp)}) + short {market_qty(qty, perp)} {perp.symbol} (mark "
        f"{market_price(mark, perp)}), both or neither. Open it? [y/N] "
    )
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _report(session: Session, pair: CarryPair | None, message: str, as_json: bool) -> int:
    engine = session.engine
    if as_json:
        print_json(
            {
                "account": engine.account.name,
                "exchange": engine.exchange,
                "pair": None if pair is None else pair_dict(pair, engine),
                "message": message,
            }
        )
        return 0
    say(f"{engine.account.title}: {message}")
    return 0


def pair_dict(pair: CarryPair, engine: PaperEngine) -> dict[str, object]:
    """A pair in JSON: both legs (the perp short's quantity, the spot held)."""
    pos = engine.position(pair.symbol)
    held = next((h for h in engine.spot_holdings() if h.symbol == pair.spot_symbol), None)
    return {
        "pair": True,
        "symbol": pair.symbol,
        "spot_symbol": pair.spot_symbol,
        "qty": pair.qty,
        "opened_at": pair.opened_at,
        "perp_leg": None if pos is None else {"side": pos.side, "qty": pos.qty, "entry": pos.entry},
        "spot_leg": None if held is None else {"side": "long", "qty": held.qty, "entry": held.entry},
    }


def holding_dict(h: SpotHolding) -> dict[str, object]:
    return {
        "symbol": h.symbol,
        "asset": h.base,
        "qty": h.qty,
        "avg_cost": h.entry,
        "price": h.last_mark,
        "value": h.value(),
        "unrealized_pnl": h.upnl(),
    }
