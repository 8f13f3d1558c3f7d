"""The live trading commands' flags: ``perptui order`` (a ticket to the exchange) and ``perptui orders``
(the order log; what is open; cancel, move, close, the kill switch). Both refuse to do anything unless
``[trading] live = true`` (see ``services.trading.gate``)."""

from __future__ import annotations

import argparse

from perptui.domain.quantities import PRICE, QUANTITY, RISK_PERCENT, count, leverage, money
from perptui.presentation.paper_args import arg_of, parse_take_profit
from perptui.presentation.parse import arg_type
from perptui.presentation.parse_args import symbol_arg

from .parser import OneLineParser, quiet_defaults

MAX_LOG_ROWS = 10_000
_price = arg_type(PRICE)
_qty = arg_type(QUANTITY)


def add_order(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "order",
        parents=parents,
        help="LIVE: send a sized ticket to the exchange: the entry, a reduce-only stop, the take-profits",
        description="Send a trade to the exchange (needs [trading] live = true, API keys with trade "
        'permission and account = "exchange"; try it with --testnet first): the entry (market, or a limit '
        "at --entry), a reduce-only stop-market for the whole position at --stop, and a reduce-only "
        "take-profit per --tp. Every order is shown as it will be sent and must be confirmed by typing "
        "the symbol or y; --yes needs trading.allow_yes = true.",
    )
    add = p.add_argument
    add("--symbol", required=True, type=symbol_arg, metavar="SYM", help="the market (BTC, BTCUSDT ...)")
    add("--side", required=True, type=str.lower, choices=("long", "short"), help="long or short")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--qty", type=_qty, metavar="Q", help="quantity in base units (0.01 = 0.01 BTC)")
    size.add_argument(
        "--risk-pct", type=arg_type(RISK_PERCENT), metavar="X", help="size to lose X%% of equity at the stop"
    )
    size.add_argument("--risk-usd", type=arg_type(money()), metavar="X", help="size to lose X at the stop")
    add("--entry", type=_price, metavar="P", help="a limit entry at this price (default: a market order)")
    add("--stop", required=True, type=_price, metavar="P", help="the stop-loss price (always sent)")
    add(
        "--tp",
        type=arg_of(parse_take_profit),
        action="append",
        metavar="PRICE[:SHARE%]",
        help="a take-profit, repeatable: SHARE is a percent of the position; the last closes the rest",
    )
    add("--leverage", type=arg_type(leverage()), metavar="L", help="leverage to set on the symbol first")
    add("--margin-mode", choices=("isolated", "cross"), help="margin mode to set first (Binance)")
    add("--yes", action="store_true", help="send without asking (only with trading.allow_yes = true)")
    add("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_order")


def add_orders(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "orders",
        parents=parents,
        help="LIVE: the order log; open orders and positions; cancel, move, close; the kill switch",
        description="The live orders: the log of every request sent to the exchange and its answer "
        "(kept in the cache, no secrets), what is open on the account now, and the actions on it.",
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_orders", action="log", limit=50)
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, parents=parents, help=help_text, description=help_text)
        a.add_argument("--json", action="store_true", help="print JSON and nothing else")
        a.set_defaults(command="cmd_orders", action=name)
        return a

    log = action("log", "every request sent to the exchange and its answer, newest last (the default)")
    log.add_argument(
        "--limit",
        type=arg_type(count(1, MAX_LOG_ROWS, noun="number of entries")),
        default=50,
        metavar="N",
        help="the newest N (default 50)",
    )
    action("open", "positions (with their stop) and open orders, read from the exchange")
    c = action("cancel", "cancel an open order by its exchange id or client id")
    c.add_argument("id", metavar="ID", help="the order's id or client id (perptui orders open lists them)")
    m = action("move", "move a position's stop (or a take-profit by its id) to a new trigger price")
    m.add_argument("symbol", type=symbol_arg, metavar="SYMBOL", help="the position's market")
    m.add_argument("--to", required=True, type=_price, metavar="PRICE", help="the new trigger price")
    m.add_argument("--id", metavar="ID", help="move this take-profit (default: the stop)")
    x = action("close", "close a position with a reduce-only market order (asks first)")
    x.add_argument("symbol", type=symbol_arg, metavar="SYMBOL", help="the position's market")
    x.add_argument("--qty", type=_qty, metavar="Q", help="close only this quantity")
    x.add_argument("--yes", action="store_true", help="do not ask (only with trading.allow_yes = true)")
    action("kill", "the kill switch: cancel every open order, close every position (type KILL to confirm)")
    shared = {a.dest for a in p._actions if a.option_strings and a.dest != "help"}
    for child in actions.choices.values():
        quiet_defaults(child, shared)
