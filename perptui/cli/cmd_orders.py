"""`perptui orders`: the live order log, what is open on the exchange, and the actions on it.

``log`` (the default) reads the local order log only. ``open``, ``cancel``, ``move``, ``close`` and
``kill`` reach the exchange and need live trading on (``services.trading.gate``). ``close`` asks on a
terminal (the symbol or y; ``--yes`` only with ``trading.allow_yes``); ``kill`` always needs KILL typed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from perptui.domain.errors import UsageError
from perptui.domain.timeframes import iso_utc
from perptui.services.trading.gate import require_live

from .cmd_order import check_confirmation_mode, open_trader
from .context import open_store, settings_from_args
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.live.book import OpenOrder
    from perptui.services.store import Store
    from perptui.services.trading.trader import LiveBook, LiveTrader

KILL_WORD = "KILL"


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.action == "log":
        with open_store(settings) as store:
            return _log(settings, store, args)
    require_live(settings)
    if args.action == "close":
        check_confirmation_mode(settings, args.yes)
    elif args.action == "kill" and not sys.stdin.isatty():
        raise UsageError(f"the kill switch is confirmed on a terminal by typing {KILL_WORD}")
    with open_store(settings) as store:
        return asyncio.run(_with_trader(settings, store, args, _ACTIONS[args.action]))


async def _with_trader(
    settings: Settings,
    store: Store,
    args: argparse.Namespace,
    action: Callable[[LiveTrader, argparse.Namespace], Awaitable[int]],
) -> int:
    trader = open_trader(settings, store)
    try:
        return await action(trader, args)
    finally:
        await trader.exchange.close()


def _log(settings: Settings, store: Store, args: argparse.Namespace) -> int:
    from perptui.services.trading import log as order_log

    with store.reading() as conn:
        rows = order_log.load_log(conn, exchange=settings.exchange or None, limit=args.limit)
    if args.json:
        print_json({"exchange": settings.exchange_name, "log": [r.as_dict() for r in rows]})
        return 0
    if not rows:
        say("no live order has been sent from this cache")
        return 0
    with store.reading() as conn:
        lost = order_log.unresolved(conn, settings.exchange) if settings.exchange else []
    if lost:
        ids = ", ".join(r.client_id or "?" for r in lost)
        err().print(
            f"! {len(lost)} order(s) whose answer never came: {ids} (perptui orders open looks them up)",
            style="bold yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    for r in rows:
        where = " testnet" if r.testnet else ""
        what = f"{r.action} {r.label or ''} {r.symbol or ''}".strip()
        answer = (
            r.outcome + (f" {r.status}" if r.status else "") + (f" filled {r.filled:g}" if r.filled else "")
        )
        error = f": {r.error}" if r.error else ""
        say(f"{iso_utc(r.time)} {r.exchange}{where} {what} {r.client_id or ''} -> {answer}{error}")
    return 0


def _print_book(book: LiveBook, as_json: bool, *, to_stderr: bool = False) -> None:
    """The book as JSON, or as lines (on stderr when stdout is kept for JSON)."""
    if as_json:
        print_json(book.as_dict())
        return
    console = err() if to_stderr else out()

    def line(text: str, style: str | None = None) -> None:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    if not book.positions and not book.orders:
        line("nothing open on the exchange")
    for p, pr in zip(book.positions, book.protections, strict=True):
        style = None if pr.protected else "bold red"
        head = f"{p.symbol} {p.side} {p.qty:g} entry {p.entry_price or 0:g} mark {p.mark_price or 0:g}: "
        line(head + pr.describe(), style)
    for o in book.orders:
        price = f" trigger {o.trigger:g}" if o.trigger else (f" at {o.price:g}" if o.price else "")
        flags = " reduce-only" if o.reduce_only else ""
        line(f"order {o.id} {o.client_id or '-'} {o.symbol} {o.side} {o.qty:g} {o.type}{price}{flags}")


async def _open(trader: LiveTrader, args: argparse.Namespace) -> int:
    for note in await trader.reconcile():  # orders whose answer was lost, settled now
        err().print(f"looked up {note}", markup=False, highlight=False, soft_wrap=True)
    _print_book(await trader.book(), args.json)
    return 0


def _find_order(book: LiveBook, wanted: str) -> OpenOrder:
    for o in book.orders:
        if wanted in (o.id, o.client_id):
            return o
    raise UsageError(f"no open order {wanted!r} on the exchange: perptui orders open lists them")


async def _cancel(trader: LiveTrader, args: argparse.Namespace) -> int:
    order = _find_order(await trader.book(), args.id)
    await trader.cancel(order)
    if args.json:
        print_json({"cancelled": order.as_dict()})
    else:
        say(f"cancelled order {order.id} ({order.symbol} {order.type})")
    return 0


async def _move(trader: LiveTrader, args: argparse.Namespace) -> int:
    book = await trader.book([])
    symbol = _symbol(trader, book, args.symbol)
    index = next(i for i, p in enumerate(book.positions) if p.symbol == symbol)
    position, protection = book.positions[index], book.protections[index]
    if args.id is not None:
        order = _find_order(book, args.id)
    elif protection.stops:
        order = max(protection.stops, key=lambda o: o.qty)
    elif protection.position_stop is not None:
        await trader.move_position_stop(position, args.to)
        say(f"{symbol} stop moved to {args.to:g} (on the position)")
        return 0
    else:
        raise UsageError(f"{symbol} has no stop to move: perptui order sends one with each entry")
    sent = await trader.move(order, args.to, position)
    if args.json:
        print_json(sent.as_dict())
    else:
        say(
            f"{symbol} {sent.order.label} -> {args.to:g}: {sent.outcome}"
            + (f" ({sent.error})" if sent.error else "")
        )
    return 0 if sent.placed else 1


def _symbol(trader: LiveTrader, book: LiveBook, name: str) -> str:
    from perptui.domain.symbols import resolve_symbol

    held = [p.symbol for p in book.positions]
    if not held:
        raise UsageError("no position is open on the exchange")
    try:
        return resolve_symbol(name, held, trader.exchange.name)
    except UsageError:
        raise UsageError(f"no {name} position is open on the exchange (open: {', '.join(held)})") from None


async def _close(trader: LiveTrader, args: argparse.Namespace) -> int:
    book = await trader.book([])
    symbol = _symbol(trader, book, args.symbol)
    position = next(p for p in book.positions if p.symbol == symbol)
    qty = position.qty if args.qty is None else min(args.qty, position.qty)
    if not args.yes:
        base = symbol.split("/")[0]
        answer = _ask(f"close {qty:g} of the {symbol} {position.side} at market? type {base} or y: ")
        if answer.strip().lower() not in {"y", "yes", base.lower(), symbol.lower()}:
            (err() if args.json else out()).print("nothing sent")
            return 1
    sent = await trader.close(position, qty)
    if args.json:
        print_json(sent.as_dict())
    else:
        say(f"close {symbol}: {sent.outcome}" + (f" ({sent.error})" if sent.error else ""))
    return 0 if sent.placed else 1


async def _kill(trader: LiveTrader, args: argparse.Namespace) -> int:
    book = await trader.book()
    if not book.positions and not book.orders:
        say("nothing open on the exchange: the kill switch has nothing to do")
        return 0
    _print_book(book, False, to_stderr=args.json)
    answer = _ask(f"cancel ALL these orders and close ALL these positions at market? type {KILL_WORD}: ")
    if answer.strip() != KILL_WORD:
        (err() if args.json else out()).print("nothing sent")
        return 1
    outcome = await trader.kill()
    if args.json:
        print_json(
            {
                "cancelled": list(outcome.cancelled_symbols),
                "closes": [s.as_dict() for s in outcome.closes],
                "left": outcome.left.as_dict(),
                "errors": list(outcome.errors),
            }
        )
    else:
        for error in outcome.errors:
            err().print(f"!! {error}", style="bold red", markup=False, highlight=False, soft_wrap=True)
        say("kill switch: nothing is left open" if outcome.clean else "kill switch: SOMETHING IS STILL OPEN:")
        if not outcome.clean:
            _print_book(outcome.left, False)
    return 0 if outcome.clean else 1


def _ask(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        return ""


_ACTIONS: dict[str, Callable[[LiveTrader, argparse.Namespace], Awaitable[int]]] = {
    "open": _open,
    "cancel": _cancel,
    "move": _move,
    "close": _close,
    "kill": _kill,
}
