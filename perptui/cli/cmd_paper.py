"""`perptui paper`: paper trading on the paper account. Nothing is ever sent to an exchange.

Each run is a short session (``services.paper.session``): the configured market's marks (demo by
default; --offline: cached tickers, with a note of their age on stderr), what fell due since the last
run settled from history first (funding, stops, take-profits, limits, liquidations), then the action.
Bad input is one line on stderr and exit code 2; a refused order records nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import UsageError
from perptui.domain.paper import OrderRequest, PaperPosition, Trail, opposite, position_dict
from perptui.domain.paper_orders import check_request
from perptui.domain.timeframes import iso_utc
from perptui.presentation.numbers import market_price, market_qty, money
from perptui.presentation.paper_args import targets_of

from . import cmd_paper_carry as carry
from .context import open_store, settings_from_args
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.paper import PaperFill
    from perptui.domain.risk_breaker import BreakerState
    from perptui.domain.types import Market
    from perptui.services.paper.engine import PaperEngine
    from perptui.services.paper.events import OrderResult
    from perptui.services.paper.session import Session
    from perptui.services.sizing_inputs import AtrReading


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    action = args.action
    as_json = bool(getattr(args, "json", False))
    if action == "reset-breaker" and not args.yes:
        raise UsageError(
            "a reset lets new paper orders through again (the breaker re-arms against new losses from "
            "now): add --yes to confirm"
        )
    request = _request(args) if action == "order" else None
    from perptui.services.paper.session import open_session
    from perptui.services.sources import clock_for

    clock = clock_for(settings)
    named = action in ("close", "stop", "carry-open", "carry-close", "spot")
    names = [request.symbol] if request else [args.symbol] if named else []
    if action == "stop" and args.level is None and args.trail is None:
        raise UsageError("say where the stop goes: PRICE, breakeven or none, and/or --trail N% | Katr | off")
    with open_store(settings) as store:
        session = asyncio.run(open_session(settings, store, clock, names))
        if not as_json:
            for event in session.events:
                say(event.message)
        code = _ACTIONS[action](session, args, request, as_json)
    # Where the marks came from, once the action succeeded (an error stays one line).
    for note in session.notes:
        err().print(note, style="dim", markup=False, highlight=False, soft_wrap=True)
    return code


def _request(args: argparse.Namespace) -> OrderRequest:
    return check_request(
        OrderRequest(
            symbol=args.symbol,
            side=args.side,
            qty=args.qty,
            price=args.price,
            leverage=args.leverage,
            margin_mode=args.margin_mode,
            stop=args.stop,
            take_profits=targets_of(args.tp or ()),
        )
    )


# --- actions ----------------------------------------------------------------------------------------


def _order(session: Session, args: argparse.Namespace, request: OrderRequest | None, as_json: bool) -> int:
    assert request is not None
    engine = session.engine
    symbol = session.symbols[0]
    mark = engine.marks.get(symbol)
    if mark is None:
        where = "in the cache (drop --offline)" if not session.live else f"from {engine.exchange}"
        raise UsageError(f"no mark of {symbol} is known {where}: cannot fill a paper order")
    request = OrderRequest(**{**_fields(request), "symbol": symbol, "mark": mark})
    if not (args.yes or as_json) and sys.stdin.isatty() and not _confirm(engine, request):
        say("nothing placed")
        return 1
    return _report(engine.place_order(request), session, as_json)


def _close(session: Session, args: argparse.Namespace, _req: OrderRequest | None, as_json: bool) -> int:
    symbol = session.symbols[0]
    return _report(session.engine.close(symbol, args.qty), session, as_json)


def _named(session: Session) -> dict[str, object]:
    """The account a command read or wrote, in its JSON: one paper account per exchange."""
    account = session.engine.account
    return {"account": account.name, "exchange": account.exchange}


def _report(result: OrderResult, session: Session, as_json: bool) -> int:
    if as_json:
        print_json(result.as_dict() | {"events": [e.as_dict() for e in session.events]} | _named(session))
        return 0
    say(f"{session.engine.account.title}: {result.message}")
    for warning in result.warnings:
        out().print(f"! {warning}", style="bold yellow", markup=False, highlight=False, soft_wrap=True)
    return 0


def _positions(session: Session, _args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:

    engine = session.engine
    book = engine.read_state()
    st = replace(book, positions=tuple(engine.account.positions()))
    risks = st.risks(engine.tiers_of(st.positions))
    rows: list[dict[str, Any]] = []
    for p, risk in zip(st.positions, risks, strict=True):
        if p.exchange != engine.exchange:
            continue
        row = position_dict(p, p.last_mark)
        row |= {
            "liq_price": risk.liq_price,
            "liq_distance_pct": risk.liq_distance,
            "margin_ratio": risk.margin_ratio,
        }
        rows.append(row)
    breaker = engine.breaker()
    summary = engine.account.summary()
    if as_json:
        print_json(
            {
                **_named(session),
                "as_of": summary.as_of,
                "equity": summary.equity,
                "free_margin": summary.free_margin,
                "positions": rows,
                "spot": [carry.holding_dict(h) for h in engine.spot_holdings()],
                "pairs": [carry.pair_dict(p, engine) for p in engine.pairs()],
                "circuit_breaker": _breaker_dict(breaker),
            }
        )
        return 0
    if not rows:
        say(
            f"no open positions on the {engine.account.title} account; equity "
            f"{summary.equity:,.2f} {summary.currency}"
        )
    else:
        _table(
            f"{engine.account.title} positions — equity {summary.equity:,.2f} {summary.currency}",
            ("symbol", "side", "qty", "entry", "mark", "uPnL", "liq", "lev", "stop", "take-profits"),
            [_position_row(r, engine.book.get(r["symbol"])) for r in rows],
        )
    for pair in engine.pairs():
        say(f"carry pair {pair.symbol}: long {pair.qty:g} {pair.spot_symbol} spot + short {pair.qty:g} perp")
    for h in engine.spot_holdings():
        say(f"spot {h.qty:g} {h.base} at {h.price():,.2f} (avg cost {h.entry:,.2f}, uPnL {h.upnl():+,.2f})")
    if breaker.tripped:
        say(f"circuit breaker TRIPPED until {iso_utc(breaker.until)}: {breaker.reason or 'a limit was hit'}")
    return 0


def _orders(session: Session, args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:
    engine = session.engine
    orders = engine.orders(open_only=not args.all)
    attached: list[dict[str, Any]] = [
        {"symbol": p.symbol, "kind": kind, "side": opposite(p.side), "qty": qty, "price": price}
        for p in engine.positions()
        for kind, price, qty in (
            ("stop", p.stop, p.qty),
            *(("take_profit", t.price, t.qty) for t in p.take_profits),
        )
        if price is not None
    ]
    title = engine.account.title
    if as_json:
        print_json({"orders": [o.as_dict() for o in orders], "attached": attached} | _named(session))
        return 0
    if not orders and not attached:
        say(
            f"no open orders on the {title} account"
            if not args.all
            else f"no orders on the {title} account yet"
        )
        return 0
    book = engine.book
    rows: list[tuple[str, ...]] = [
        (f"#{o.id}", o.symbol, o.kind, o.side, market_qty(o.qty, book.get(o.symbol)),
         market_price(o.price, book.get(o.symbol)), o.status, o.note or "")
        for o in orders
    ]  # fmt: skip
    for a in attached:
        market = book.get(str(a["symbol"]))
        shown = (
            a["symbol"],
            a["kind"],
            a["side"],
            market_qty(a["qty"], market),
            market_price(a["price"], market),
        )
        rows.append(("", *shown, "attached", ""))
    _table(f"{title} orders", ("id", "symbol", "kind", "side", "qty", "price", "status", "note"), rows)
    return 0


def _fills(session: Session, args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:
    fills = session.engine.fills(limit=max(1, args.limit))
    title = session.engine.account.title
    if as_json:
        print_json({"fills": [f.as_dict() for f in fills]} | _named(session))
        return 0
    if not fills:
        say(f"no fills on the {title} account yet")
        return 0
    rows = [_fill_row(f, session.engine.book.get(f.symbol)) for f in fills]
    _table(f"{title} fills", ("time", "symbol", "reason", "side", "qty", "price", "fee", "realised"), rows)
    return 0


def _cancel(session: Session, args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:
    order = session.engine.cancel(args.order_id)
    if as_json:
        print_json(order.as_dict() | _named(session))
    else:
        qty = market_qty(order.qty, session.engine.book.get(order.symbol))
        say(
            f"{session.engine.account.title}: order #{order.id} ({order.side} {qty} {order.symbol}) cancelled"
        )
    return 0


def _reset(session: Session, _args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:
    from perptui.services.paper import breaker_now

    engine = session.engine
    before = breaker_now(engine.store, engine.account.name, engine.now())
    state = engine.reset_breaker()
    if as_json:
        print_json(_breaker_dict(state) | {"was_tripped": before.tripped} | _named(session))
    elif before.tripped:
        say(
            f"{engine.account.title}: circuit breaker reset: new paper orders are allowed; it is armed "
            "again, against new losses measured from now"
        )
    else:
        say(f"{engine.account.title}: the circuit breaker is not tripped: nothing to reset")
    return 0


def _stop(session: Session, args: argparse.Namespace, _r: OrderRequest | None, as_json: bool) -> int:
    """Move, remove or trail the stop; prints the risk at the new stop (the loss from the entry if it
    fills at its level, plus the exit fee) or that there is none."""
    engine = session.engine
    symbol = session.symbols[0]
    warnings: tuple[str, ...] = ()
    if args.level is not None:
        level = None if args.level == "none" else args.level
        pos, warnings = engine.set_stop(symbol, level)
    if args.trail is not None:
        pos, warnings = engine.set_trail(symbol, _trail(session, args))
    market = engine.book.get(symbol)
    risk = _stop_risk(pos, engine.fees(symbol)[0])
    if as_json:
        extra = {"risk_at_stop": risk, "warnings": list(warnings)}
        print_json(position_dict(pos, pos.last_mark) | extra | _named(session))
        return 0
    if pos.stop is None:
        text = f"{symbol} stop removed: the loss runs to liquidation"
    else:
        trail = f", trailing {pos.trail.label}" if pos.trail else ""
        text = (
            f"{symbol} stop {market_price(pos.stop, market)}{trail}: risk at the stop "
            f"{risk:,.2f} {engine.account.currency}"
        )
    say(f"{engine.account.title}: {text}")
    for warning in warnings:
        out().print(f"! {warning}", style="bold yellow", markup=False, highlight=False, soft_wrap=True)
    return 0


def _trail(session: Session, args: argparse.Namespace) -> Trail | None:
    """The trail asked for: a percent as is, an ATR multiple as a price distance at today's ATR."""
    arg = args.trail
    if arg is None or arg.kind == "off":
        return None
    if arg.kind == "pct":
        return Trail("pct", arg.value, arg.label)
    engine = session.engine
    settings = settings_from_args(args)
    sizing = settings.sizing
    symbol = session.symbols[0]
    reading = asyncio.run(_read_atr(settings, engine, symbol, live=session.live))
    if reading.value is None:
        raise UsageError(
            f"no ATR of {symbol}: too few cached {sizing.atr_timeframe} bars (perptui fetch ohlcv {symbol}); "
            "or trail by a percent (--trail 2%)"
        )
    return Trail("distance", arg.value * reading.value, arg.label)


async def _read_atr(settings: Settings, engine: PaperEngine, symbol: str, *, live: bool) -> AtrReading:
    """The ATR the sizing settings define, from the cached bars (backfilled from the source first when
    the session is online)."""
    from perptui.domain.errors import ExchangeUnavailable
    from perptui.services.sizing_inputs import read_atr
    from perptui.services.sources import open_market_data

    source = open_market_data(settings, engine.store, engine.clock) if live else None
    sizing, now = settings.sizing, engine.now()
    try:
        try:
            return await read_atr(
                engine.store, engine.exchange, symbol, sizing.atr_timeframe, sizing.atr_period, now,
                source=source, clock=engine.clock,
            )  # fmt: skip
        except ExchangeUnavailable:
            return await read_atr(
                engine.store, engine.exchange, symbol, sizing.atr_timeframe, sizing.atr_period, now
            )
    finally:
        if source is not None:
            await source.close()


def _stop_risk(pos: PaperPosition, taker: float) -> float | None:
    """What a fill at the stop loses from the entry, with the exit fee (0 for a stop in profit)."""
    if pos.stop is None:
        return None
    return max(0.0, pos.sign * pos.qty * (pos.entry - pos.stop)) + pos.qty * pos.stop * taker


_ACTIONS = {
    "order": _order,
    "stop": _stop,
    "close": _close,
    "positions": _positions,
    "orders": _orders,
    "fills": _fills,
    "cancel": _cancel,
    "reset-breaker": _reset,
    "carry-open": lambda s, a, _r, j: carry.carry_open(s, a, j),
    "carry-close": lambda s, a, _r, j: carry.carry_close(s, a, j),
    "spot": lambda s, a, _r, j: carry.spot_order(s, a, j),
}


# --- helpers ----------------------------------------------------------------------------------------


def _position_row(r: dict, market: Market | None) -> tuple[str, ...]:
    """A position's row: prices at the market's tick, the quantity at its step."""
    return (
        r["symbol"],
        r["side"],
        market_qty(r["qty"], market),
        market_price(r["entry"], market),
        market_price(r["mark"], market),
        money(r["upnl"], signed=True),
        market_price(r["liq_price"], market),
        f"{r['leverage']:g}x {r['margin_mode']}",
        market_price(r["stop"], market) + (f" ~{r['trail']['label']}" if r["trail"] else ""),
        " ".join(
            f"{market_qty(t['qty'], market)}@{market_price(t['price'], market)}" for t in r["take_profits"]
        ),
    )


def _fill_row(f: PaperFill, market: Market | None) -> tuple[str, ...]:
    return (
        iso_utc(f.time) or "",
        f.symbol,
        f.reason,
        f.side,
        market_qty(f.qty, market),
        market_price(f.price, market),
        f"{f.fee:,.4f}",
        f"{f.realized_pnl + f.liquidation_loss:+,.2f}",
    )


def _fields(req: OrderRequest) -> dict[str, Any]:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


def _confirm(engine: PaperEngine, req: OrderRequest) -> bool:
    market = engine.book.get(req.symbol)
    what = "at market" if req.price is None else f"limit {market_price(req.price, market)}"
    extra = f", leverage {req.leverage:g}x" if req.leverage is not None else ""
    if req.stop is not None:
        extra += f", stop {market_price(req.stop, market)}"
    extra += "".join(f", tp {market_price(t.price, market)} ({t.share:.0%})" for t in req.take_profits)
    slip = engine.config.slippage * 10_000
    question = (
        f"PAPER ({engine.account.title}) {req.side} {market_qty(req.qty, market)} {req.symbol} {what} "
        f"(mark {market_price(req.mark, market)}, slippage {slip:g} bp{extra}). Place it? [y/N] "
    )
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _breaker_dict(state: BreakerState) -> dict[str, object]:
    return {
        "tripped": state.tripped,
        "since": state.since,
        "until": state.until,
        "reason": state.reason,
        "reset_at": state.reset_at,
    }


def _table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A plain table; not on a terminal (a pipe, a file) as wide as it needs, never cut or wrapped."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = out()
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < 2 else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    if not console.is_terminal:
        width = sum(max(len(h), *(len(r[i]) for r in rows)) + 3 for i, h in enumerate(headers))
        console = Console(width=max(width, console.width), highlight=False, file=console.file)
    console.print(table)
