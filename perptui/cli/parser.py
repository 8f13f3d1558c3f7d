"""The command line's arguments, kept apart from the commands themselves so that parsing (and
``--help``) imports nothing heavy: a command's module is imported only when it runs."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import replace
from typing import NoReturn

from perptui import __version__
from perptui.domain.alerts.rules import KINDS, MAX_COOLDOWN_S, SEVERITIES
from perptui.domain.quantities import (
    ATR_MULTIPLE,
    MAX_PATHS,
    NON_NEGATIVE,
    PAYOFF_RATIO,
    POSITIVE,
    PRICE,
    QUANTITY,
    R_MULTIPLE,
    RISK_PERCENT,
    SHARE_PERCENT,
    STOP_PERCENT,
    WIN_RATE,
    Quantity,
    count,
    leverage,
    money,
)
from perptui.presentation.paper_args import arg_of, parse_stop_level, parse_take_profit, parse_trail
from perptui.presentation.parse import arg_list_type, arg_type
from perptui.presentation.parse_args import (
    date_arg,
    exchange_arg,
    id_arg,
    path_arg,
    quiet_hours_arg,
    rule_id_arg,
    stress_arg,
    symbol_arg,
    symbols_arg,
    text_arg,
    timeframe_arg,
)

from .output import error_line

DEFAULT_TOP = 25
#: Upper bounds of flags that set an amount of work or output (far above any real use; they catch a typo
#: or a runaway script before it runs for hours).
MAX_ROWS = 10_000
MAX_FILLS = 1_000_000
MAX_DAYS = 36_500
MAX_SEED = 2**32 - 1
MAX_VOLUME = 1e12
MAX_APR_PCT = 10_000.0
#: A grid's parameter sets: the default limit, and how far --max-combinations raises it.
DEFAULT_COMBINATIONS = 1_000
MAX_COMBINATIONS = 100_000
#: Sweep processes; the command also refuses more than 4 per core of the machine.
MAX_WORKERS = 1_024


class OneLineParser(argparse.ArgumentParser):
    """argparse with a single-line error (what is wrong, where to look) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        error_line(f"{message} (see '{self.prog} --help')", prog=self.prog)
        raise SystemExit(2)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse drops a value of "--" (``--entry=--``) and stores [] without calling the flag's type.
        values = super()._get_values(action, arg_strings)
        if values == [] and action.option_strings and action.nargs is None:
            self.error(f"argument {'/'.join(action.option_strings)}: expected a value, not '--'")
        return values


def _base_url(text: str) -> str:
    """``type=`` of --api-base-url: the URL's shape checked now (http(s), a host, a valid port); plain
    http to another host is the settings' check, which knows network.allow_insecure."""
    from perptui.config.urls import BASE_URL_FORM, base_url_problem, mask_url

    problem = base_url_problem(text)
    if problem is not None:
        shown = mask_url(text.strip())[:80] if text.strip() else ""
        raise argparse.ArgumentTypeError(f"{shown!r} {problem}: give {BASE_URL_FORM}")
    return text.strip()


def data_options() -> argparse.ArgumentParser:
    """Options every data command takes after its name."""
    p = OneLineParser(add_help=False)
    g = p.add_argument_group("data source")
    add = g.add_argument
    add(
        "--exchange",
        type=exchange_arg,
        metavar="ID",
        help="ccxt exchange id (binanceusdm, bybit, okx); demo = built-in",
    )
    add(
        "--api-base-url",
        type=_base_url,
        metavar="URL",
        help="replace scheme and host of every exchange REST URL",
    )
    add("--testnet", action="store_true", default=None, help="use the exchange's testnet")
    add("--offline", action="store_true", default=None, help="use the cache only, never the network")
    add(
        "--db",
        type=path_arg("--db"),
        metavar="PATH",
        help="SQLite cache file (default: in the user data dir)",
    )
    return p


def _app(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "app",
        parents=parents,
        help="the terminal app (the default command): account, and the panes as they arrive",
        description="Open the keyboard-driven terminal app on the configured market.",
    )
    p.set_defaults(command="cmd_app")


def _overview(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "overview",
        parents=parents,
        help="prices, volume and funding of every perp, busiest first",
        description="Live prices, 24h volume, open interest and funding of the configured market.",
    )
    p.add_argument("--symbols", nargs="+", type=symbols_arg, metavar="SYM", help="only these markets")
    p.add_argument(
        "--top",
        type=arg_type(count(0, MAX_ROWS, noun="number of rows")),
        default=DEFAULT_TOP,
        metavar="N",
        help=f"rows (default {DEFAULT_TOP}; 0: all)",
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_overview")


#: The argparse types of every numeric flag: one reader (``perptui.presentation.parse``), each flag with
#: the limits of its kind, the same the panes apply.
_price = arg_type(PRICE)
take_profit_arg = arg_of(parse_take_profit)
stop_arg = arg_of(parse_stop_level)
trail_arg = arg_of(parse_trail)
_qty = arg_type(QUANTITY)
_money = arg_type(money())
_positive = arg_type(POSITIVE)
_non_negative = arg_type(NON_NEGATIVE)
_prices = arg_list_type(PRICE)
_r_multiples = arg_list_type(R_MULTIPLE)
_kelly = arg_list_type(WIN_RATE, PAYOFF_RATIO, most=2)
_fee = arg_type(NON_NEGATIVE.named("fee"))
_whole = arg_type(count(1))
_stop_pct = arg_type(STOP_PERCENT)
_atr_multiple = arg_type(ATR_MULTIPLE)
_risk_pct = arg_type(RISK_PERCENT)
_days = arg_type(count(1, MAX_DAYS, noun="number of days"))


def _leverage(text: str) -> float | str:
    return "auto" if text.strip().lower() == "auto" else arg_type(leverage())(text)


def _size(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "size",
        parents=parents,
        help="size a trade: the quantity a risk budget allows, margin, liquidation, fees, funding",
        description="Size a position from the stop and the risk budget: the largest quantity whose loss at "
        "the stop (fees and slippage included) stays within the risk, within the free margin and the "
        "leverage brackets. Percents are percents (1 = 1%); --fee is a fraction (0.0005).",
    )
    add = p.add_argument
    add(
        "--symbol",
        required=True,
        type=symbol_arg,
        metavar="SYM",
        help="the market (BTCUSDT, BTC/USDT:USDT, ...)",
    )
    add("--side", required=True, type=str.lower, choices=("long", "short"), help="long or short")
    add("--entry", type=_price, metavar="P", help="entry price (default: the mark; offline: the cached one)")
    stop = p.add_mutually_exclusive_group(required=True)
    stop.add_argument("--stop", type=_price, metavar="P", help="stop price")
    stop.add_argument(
        "--stop-pct", type=arg_type(STOP_PERCENT), metavar="X", help="stop X%% away from the entry (1 = 1%%)"
    )
    stop.add_argument(
        "--stop-atr", type=arg_type(ATR_MULTIPLE), metavar="K", help="stop K x ATR away from the entry"
    )
    add("--atr-period", type=_whole, metavar="N", help="bars in the ATR (default: sizing.atr_period, 14)")
    add(
        "--atr-timeframe",
        type=timeframe_arg,
        metavar="TF",
        help="ATR candles (default: sizing.atr_timeframe, 1h)",
    )
    add("--equity", type=_money, metavar="E", help="equity and free margin (default: the account's)")
    risk = p.add_mutually_exclusive_group()
    risk.add_argument(
        "--risk-pct",
        type=arg_type(RISK_PERCENT),
        metavar="X",
        help="risk X%% of equity (default: the account's)",
    )
    risk.add_argument("--risk-usd", type=_money, metavar="X", help="risk this amount of the settle currency")
    risk.add_argument(
        "--kelly",
        type=_kelly,
        metavar="WIN%,PAYOFF",
        help="win rate %% and payoff ratio (e.g. 55,1.5): risk sizing.kelly_fraction (half) of Kelly, "
        "at most risk.max_risk_pct",
    )
    add("--leverage", type=_leverage, metavar="L", help="leverage, or auto (default: sizing.leverage)")
    add("--margin-mode", choices=("isolated", "cross"), help="default: sizing.margin_mode")
    add("--fee", type=_fee, metavar="F", help="taker fee per side as a fraction (default: the market's)")
    add(
        "--slippage-bps",
        type=_non_negative,
        metavar="B",
        help="slippage at the stop (default: sizing.slippage_bps)",
    )
    add("--tp", type=_r_multiples, metavar="R1,R2,...", help="take-profits at R multiples, equal shares")
    add("--tp-price", type=_prices, metavar="P1,P2,...", help="take-profits at prices, equal shares")
    add("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_size")


def _scan(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    # Its own copy of the data options: its --exchange takes several ids and replaces the shared one
    # (conflict_handler="resolve" edits the parent's action, which must not reach other commands).
    p = sub.add_parser(
        "scan",
        parents=[data_options()],
        conflict_handler="resolve",
        help="funding scanner: rates, APR, 7/30/90-day history, net carry; cross-exchange spreads",
        description="Scan the funding of every linear perp: current rate and APR (any interval), the "
        "7/30/90-day mean APR, spread and z-score of the cached history, the net cash-and-carry APR after "
        "costs, and with several --exchange ids the cross-exchange spreads. Online it first fetches the "
        "missing 90 days of history (only new prints once cached). Percents are percents (10 = 10%).",
    )
    add = p.add_argument
    add(
        "--exchange",
        dest="exchanges",
        type=exchange_arg,
        nargs="+",
        action="extend",
        metavar="ID",
        help="ccxt exchange id(s), demo = built-in; several compare funding across them "
        "(default: the configured exchange and scan.exchanges)",
    )
    add(
        "--symbols",
        nargs="+",
        type=symbols_arg,
        metavar="SYM",
        help="only these markets (BTCUSDT, BTC/USDT:USDT, ...)",
    )
    add(
        "--min-volume",
        type=arg_type(replace(NON_NEGATIVE, maximum=MAX_VOLUME)),
        metavar="USD",
        help="hide perps with less 24h volume (scan.min_volume_usd)",
    )
    add(
        "--min-apr",
        type=arg_type(replace(NON_NEGATIVE, maximum=MAX_APR_PCT, unit="%")),
        metavar="X",
        help="hide perps whose |funding APR| is below X%% (scan.min_apr_pct)",
    )
    add(
        "--sort",
        type=text_arg("--sort", "a column name or abs_apr"),
        metavar="KEY",
        help="sort by a column of the JSON rows or abs_apr (default: abs_apr)",
    )
    add("--reverse", action="store_true", help="reverse the sort order")
    add("--top", type=arg_type(count(1, MAX_ROWS)), metavar="N", help="only the first N rows (and N spreads)")
    add(
        "--hold-days",
        type=_positive,
        metavar="D",
        help="holding period of the carry trade (scan.hold_days)",
    )
    add(
        "--asof",
        type=date_arg("--asof"),
        metavar="DATETIME",
        help="compute from the cache as of this UTC time (2024-05-01T08:00)",
    )
    add("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_scan")


def _markets(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "markets",
        parents=parents,
        help="market metadata: steps, limits, fees, leverage tiers",
        description="List the exchange's linear perpetual markets with their leverage tiers.",
    )
    p.add_argument(
        "--symbols",
        nargs="+",
        type=symbols_arg,
        metavar="SYM",
        help="only these (BTCUSDT, BTC/USDT:USDT, ...)",
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_markets")


def _fetch(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fetch",
        parents=parents,
        help="backfill funding and OHLCV history into the cache (resumable)",
        description="Download history into the local cache. Rerunning resumes after the newest stored row.",
    )
    p.add_argument(
        "--symbols", nargs="+", required=True, type=symbols_arg, metavar="SYM", help="markets to fetch"
    )
    p.add_argument(
        "--since",
        required=True,
        type=date_arg("--since"),
        metavar="DATE",
        help="start, UTC (2024-01-01 or 2024-01-01T08:00)",
    )
    p.add_argument("--until", type=date_arg("--until"), metavar="DATE", help="end, UTC (default: now)")
    p.add_argument("--kind", default="funding,ohlcv", help="funding, ohlcv or both (default: funding,ohlcv)")
    p.add_argument("--timeframe", default="1h", type=timeframe_arg, help="OHLCV bar size (default: 1h)")
    p.add_argument("--json", action="store_true", help="print JSON and nothing else on stdout")
    p.set_defaults(command="cmd_fetch")


def _import(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        parents=parents,
        help="load funding / OHLCV CSV and leverage-tier JSON files into the cache",
        description="Import files in the formats described in the README (Binance CSV exports, ccxt tiers).",
    )
    p.add_argument("--funding", type=path_arg("--funding"), metavar="PATH", help="funding CSV file or folder")
    p.add_argument(
        "--ohlcv", type=path_arg("--ohlcv"), metavar="PATH", help="perp OHLCV CSV(.gz) file or folder"
    )
    p.add_argument(
        "--spot-ohlcv",
        type=path_arg("--spot-ohlcv"),
        metavar="PATH",
        help="spot OHLCV CSV(.gz) file or folder",
    )
    p.add_argument(
        "--timeframe", type=timeframe_arg, metavar="TF", help="bar size of the OHLCV files (1h, 8h, 1d, ...)"
    )
    p.add_argument(
        "--tiers", type=path_arg("--tiers"), metavar="FILE", help="ccxt fetch_leverage_tiers() JSON"
    )
    p.add_argument("--symbol", metavar="SYM", help="market of a CSV file without a symbol column")
    p.add_argument("--replace", action="store_true", help="overwrite stored rows the files contradict")
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_import")


def _config(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "config",
        parents=parents,
        help="show the effective settings and paths; --init writes a default config file",
        description="Show the effective settings (flags > PERPTUI_* env > config file > defaults).",
    )
    p.add_argument("--init", action="store_true", help="write a commented default config file")
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_config")


def _cache(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cache",
        parents=parents,
        help="the local cache: rows, bytes and time span per table; prune it now",
        description="What the cache holds, and its retention ([cache] settings) applied now. The app and "
        "every writer prune as they write, a bounded step at a time; 'prune' does all that is due at once.",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser, required=True)
    stats = actions.add_parser("stats", parents=parents, help="rows, bytes and time span of every table")
    stats.add_argument("--json", action="store_true", help="print JSON and nothing else")
    stats.set_defaults(command="cmd_cache", action="stats")
    prune = actions.add_parser(
        "prune", parents=parents, help="apply the retention now; --vacuum shrinks the file"
    )
    prune.add_argument("--vacuum", action="store_true", help="rewrite the file without its free pages")
    prune.add_argument("--json", action="store_true", help="print JSON and nothing else")
    prune.set_defaults(command="cmd_cache", action="prune")


#: An alert's threshold: above 0 in every kind (each kind's own range is checked by the command).
_THRESHOLD = Quantity("threshold", maximum=1e12, example="5 or 60000")


def _alerts(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "alerts",
        parents=parents,
        help="alert rules: list, add, remove, mute; the history of notifications; test the targets",
        description="The alert rules in force: the defaults (liquidation distance, no stop, the circuit "
        "breaker, stale data), the [alerts] rules of the config and those added here (kept in the cache). "
        "Each fires once when its condition starts and once when it clears.",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser, required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, parents=parents, help=help_text, description=help_text)
        a.add_argument("--json", action="store_true", help="print JSON and nothing else")
        a.set_defaults(command="cmd_alerts", action=name)
        return a

    action("list", "every rule in force: kind, threshold, market, severity, cool-down, quiet hours, source")
    a = action("add", "add a rule (kept in the cache; the config's [alerts] rules are edited in the file)")
    add = a.add_argument
    add("--kind", required=True, choices=tuple(KINDS), metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    add("--threshold", type=arg_type(_THRESHOLD), metavar="X", help="the level (kinds that take one)")
    where = a.add_mutually_exclusive_group()
    where.add_argument("--symbol", type=symbol_arg, metavar="SYM", help="one market (default: every one)")
    where.add_argument(
        "--all-perps",
        action="store_true",
        help="funding rules: every perp of the exchange (the scanner's list), not only those held",
    )
    add("--severity", choices=SEVERITIES, default="warning", help="info, warning (default) or critical")
    add(
        "--cooldown",
        type=arg_type(count(0, MAX_COOLDOWN_S, noun="cool-down")),
        metavar="SEC",
        help="seconds before it may notify again after clearing (default: [alerts] cooldown_s)",
    )
    add(
        "--quiet",
        type=quiet_hours_arg,
        metavar="HH:MM-HH:MM",
        help="quiet hours in UTC: only critical alerts are delivered (default: [alerts] quiet_hours)",
    )
    add("--id", type=rule_id_arg, metavar="ID", help="the rule's id (default: made from kind and market)")
    for name, help_text in (
        ("remove", "remove a rule added with 'alerts add'"),
        ("mute", "mute a rule: it keeps watching but never notifies"),
        ("unmute", "unmute a rule"),
    ):
        action(name, help_text).add_argument("id", type=rule_id_arg, metavar="ID", help="the rule's id")
    action("test", "send one test notification to every target; say what each answered").set_defaults(
        command="cmd_alerts_test"
    )
    h = action("history", "the notifications fired and cleared, newest last")
    h.add_argument(
        "--limit",
        type=arg_type(count(1, MAX_ROWS, noun="number of entries")),
        default=50,
        metavar="N",
        help="the newest N (default 50)",
    )
    shared = {a.dest for a in p._actions if a.option_strings and a.dest != "help"}
    for child in actions.choices.values():
        quiet_defaults(child, shared)


def _account(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "account",
        parents=parents,
        help="the account's capital: equity, margin, risk budget, PnL; deposit and withdraw (paper)",
        description="Show the account (the paper account by default; the exchange's, read-only, with "
        'account = "exchange" and API keys).',
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_account", action="show")
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser)
    for action, verb in (("deposit", "add"), ("withdraw", "take")):
        a = actions.add_parser(
            action, parents=parents, help=f"{verb} AMOUNT to/from the paper account's wallet"
        )
        a.add_argument(
            "amount",
            type=_money,
            metavar="AMOUNT",
            help="an amount of the settle currency (USDT), from 0.01 to 1,000,000,000",
        )
        a.add_argument("--json", action="store_true", help="print JSON and nothing else")
        # Options may come before the action too (`account --db X --json deposit 5`): the action's own
        # copies must not reset them to their defaults when absent.
        for option in a._actions:
            if option.option_strings and option.dest != "help":
                option.default = argparse.SUPPRESS
        a.set_defaults(command="cmd_account", action=action)


def _paper_action(
    actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser], name: str, help_text: str
) -> argparse.ArgumentParser:
    a = actions.add_parser(name, parents=parents, help=help_text, description=help_text)
    a.add_argument("--json", action="store_true", help="print JSON and nothing else")
    a.set_defaults(command="cmd_paper", action=name)
    return a


def quiet_defaults(parser: argparse.ArgumentParser, shared: set[str]) -> None:
    """Shared options may come before the action too (`paper --db X positions`): the action's own
    copies must not reset them to their defaults when absent."""
    for option in parser._actions:
        if option.dest in shared:
            option.default = argparse.SUPPRESS


def _paper(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "paper",
        parents=parents,
        help="paper trading on the paper account: orders, positions, fills (never sent to an exchange)",
        description="Paper trading on the local paper account at the configured market's marks (the demo "
        "market by default; --offline: the cached tickers). Nothing is ever sent to an exchange. With no "
        "action: the open positions.",
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_paper", action="positions")
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser)
    o = _paper_action(actions, parents, "order", "place a market order, or a limit order with --price")
    add = o.add_argument
    add(
        "--symbol",
        required=True,
        type=symbol_arg,
        metavar="SYM",
        help="the market (BTC, BTCUSDT, BTC/USDT:USDT ...)",
    )
    add("--side", required=True, type=str.lower, choices=("long", "short"), help="long or short")
    add("--qty", required=True, type=_qty, metavar="Q", help="quantity in base units (0.01 = 0.01 BTC)")
    add("--price", type=_price, metavar="P", help="limit price: rests until the mark reaches it")
    add(
        "--leverage",
        type=arg_type(leverage()),
        metavar="L",
        help="leverage of a new position (default: paper.leverage)",
    )
    add("--margin-mode", choices=("isolated", "cross"), help="default: paper.margin_mode")
    add("--stop", type=_price, metavar="P", help="attach a stop-loss at this price")
    add(
        "--tp",
        type=take_profit_arg,
        action="append",
        metavar="PRICE[:SHARE%]",
        help="a take-profit level, repeatable: SHARE is a percent of the position (105:50 or 105:50%%); "
        "levels without one split what is left, and the last level closes the rest",
    )
    add("--yes", action="store_true", help="do not ask for a confirmation on a terminal")
    st = _paper_action(actions, parents, "stop", "move, remove or trail a position's stop-loss")
    st.add_argument("symbol", type=symbol_arg, metavar="SYMBOL", help="the position's market")
    st.add_argument(
        "level",
        nargs="?",
        type=stop_arg,
        metavar="PRICE|breakeven|none",
        help="the new stop, the entry (breakeven), or none to remove it",
    )
    st.add_argument(
        "--trail",
        type=trail_arg,
        metavar="N%|Katr",
        help="trail the stop N%% behind the mark, or K x ATR (sizing.atr_timeframe/atr_period, cached bars); "
        "off: stop trailing",
    )
    c = _paper_action(actions, parents, "close", "close a position, or --qty of it (always allowed)")
    c.add_argument("symbol", type=symbol_arg, metavar="SYMBOL", help="the position's market")
    c.add_argument("--qty", type=_qty, metavar="Q", help="close only this quantity")
    _paper_action(actions, parents, "positions", "open positions at the current marks")
    orders = _paper_action(actions, parents, "orders", "resting limits, attached stops and take-profits")
    orders.add_argument("--all", action="store_true", help="every order, filled and cancelled too")
    fills = _paper_action(actions, parents, "fills", "executions, newest last")
    fills.add_argument(
        "--limit",
        type=arg_type(count(1, MAX_FILLS)),
        default=50,
        metavar="N",
        help="the last N fills (default 50)",
    )
    x = _paper_action(actions, parents, "cancel", "cancel a resting limit order")
    x.add_argument(
        "order_id", type=id_arg, metavar="ID", help="the order's number (see 'perptui paper orders')"
    )
    r = _paper_action(actions, parents, "reset-breaker", "reset a tripped circuit breaker (needs --yes)")
    r.add_argument("--yes", action="store_true", help="confirm the reset")
    s = _paper_action(actions, parents, "spot", "buy or sell on a perp's spot twin (no borrowed spot)")
    s.add_argument(
        "--symbol", required=True, type=symbol_arg, metavar="SYM", help="the coin (BTC, BTC/USDT ...)"
    )
    s.add_argument("--side", required=True, type=str.lower, choices=("buy", "sell"), help="buy or sell")
    s.add_argument("--qty", required=True, type=_qty, metavar="Q", help="quantity of the coin")
    s.add_argument(
        "--price", type=_price, metavar="P", help="limit price: rests until the spot price reaches it"
    )
    nested = _carry(actions, parents)
    shared = {a.dest for a in p._actions if a.option_strings and a.dest != "help"}
    for a in [*actions.choices.values(), *nested]:
        quiet_defaults(a, shared)


def _carry(
    actions: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> list[argparse.ArgumentParser]:
    """`paper carry open|close`: a carry pair (long spot + short perp) as one unit."""
    help_text = "carry pairs: long spot + short perp of the same quantity, opened and closed as one"
    c = actions.add_parser("carry", parents=parents, help=help_text, description=help_text)
    verbs = c.add_subparsers(title="actions", metavar="ACTION", parser_class=OneLineParser, required=True)
    o = _paper_action(verbs, parents, "open", "open a pair (or add to it): both legs in one transaction")
    o.set_defaults(action="carry-open")
    o.add_argument(
        "--symbol",
        required=True,
        type=symbol_arg,
        metavar="SYM",
        help="the coin (BTC, BTCUSDT, BTC/USDT:USDT ...)",
    )
    size = o.add_mutually_exclusive_group(required=True)
    size.add_argument("--qty", type=_qty, metavar="Q", help="quantity of each leg in the coin")
    size.add_argument(
        "--notional", type=_money, metavar="N", help="size of each leg in USDT at the spot price"
    )
    o.add_argument(
        "--leverage", type=arg_type(leverage()), metavar="L", help="leverage of the perp leg (default: auto)"
    )
    o.add_argument("--yes", action="store_true", help="do not ask for a confirmation on a terminal")
    x = _paper_action(verbs, parents, "close", "close a pair, or --qty of it: both legs in one transaction")
    x.set_defaults(action="carry-close")
    x.add_argument("symbol", type=symbol_arg, metavar="SYMBOL", help="the pair's coin")
    x.add_argument("--qty", type=_qty, metavar="Q", help="close only this quantity of each leg")
    return [c, o, x]


def _watch(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "watch",
        parents=parents,
        help="the risk monitor and alert rules without the app: notifications, a JSON line per event",
        description="Poll the account's positions, funding and prices, evaluate the alert rules and send "
        "what fires to the [alerts] targets; one JSON object per line on stdout for each alert and each "
        "paper event. Runs beside the app on the same cache without notifying twice; resumes after a restart "
        "without sending an alert again; SIGTERM or Ctrl-C ends it cleanly.",
    )
    p.add_argument(
        "--interval",
        type=arg_type(count(5, 3600, noun="number of seconds")),
        default=30,
        metavar="S",
        help="seconds between two polls (5 to 3600; default 30)",
    )
    p.add_argument("--once", action="store_true", help="one poll, then exit")
    p.set_defaults(command="cmd_watch")


def _risk(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "risk",
        parents=parents,
        help="the account's risk: liquidation distance, margin, VaR, drawdown, limits, alerts, breaker",
        description="The risk of the open positions now: per position the distance to liquidation (in % "
        "and in daily sigmas), margin ratio and next funding; the portfolio's equity, exposure, leverage, "
        "today's PnL and drawdown; 1-day VaR/CVaR at 95% and 99%; the limits of [risk] and how close "
        "each is; alerts and the circuit breaker. The paper account by default, the exchange's read-only "
        'with account = "exchange". Amounts in the settle currency; JSON shares are fractions.',
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_risk")


def _optimize(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "optimize",
        help="mean-variance optimiser: weights for a problem file (max utility, Sharpe, frontier ...)",
        description="Solve a mean-variance problem exactly: PROBLEM.json holds assets, mu, cov, objective "
        "and optional limits (see the README). Figures are yearly fractions (0.12 = 12%).",
    )
    p.add_argument(
        "--input", required=True, type=path_arg("--input"), metavar="PROBLEM.json", help="the problem file"
    )
    p.add_argument("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_optimize")


def _allocate(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "allocate",
        parents=parents,
        help="the hybrid plan: a neutral funding base and a directional trend layer as target positions",
        description="Turn a capital into the hybrid plan: spot + opposite perp carry pairs on the best net "
        "funding (neutral base) and trend-following perps sized by the mean-variance optimiser within the "
        "leverage, weight and volatility limits of [plan] (directional layer), scaled down when volatility "
        "spikes; quantities rounded to the markets' steps, and the trades from the paper positions.",
    )
    add = p.add_argument
    add("--capital", type=_money, metavar="C", help="capital to plan (default: the paper account's equity)")
    add(
        "--neutral-pct",
        type=arg_type(SHARE_PERCENT),
        metavar="X",
        help="%% of capital to the neutral base (default: the account's split, else plan.neutral_pct)",
    )
    add("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_allocate")


def _backtest(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backtest",
        parents=parents,
        help="backtest the carry base, the trend layer or the hybrid on history, with funding and fees",
        description="Run a strategy of the allocation pane over cached history (fetched first when online): "
        "fills at the next bar's open with slippage and taker fees, funding at every print, margin and "
        "liquidation per position; metrics per layer and for the whole, the stress windows (May 2021, "
        "LUNA, FTX), and on request walk-forward, parameter sweeps and Monte Carlo.",
    )
    add = p.add_argument
    add("--strategy", required=True, choices=("carry", "trend", "hybrid"), help="what to run")
    add(
        "--symbols",
        nargs="+",
        type=symbols_arg,
        metavar="SYM",
        help="the universe (default: the busiest cached perps)",
    )
    add(
        "--from",
        dest="since",
        type=date_arg("--from"),
        metavar="DATE",
        help="first day, UTC (default: 2021-01-01, or four years before --to if that is earlier)",
    )
    add(
        "--to", dest="until", type=date_arg("--to"), metavar="DATE", help="end, UTC, exclusive (default: now)"
    )
    add("--timeframe", default="8h", choices=("1h", "4h", "8h", "1d"), help="bar length (default 8h)")
    add("--capital", type=_money, metavar="C", help="starting capital (default: paper.starting_capital)")
    add("--param", action="append", default=[], metavar="KEY=VALUE", help="a strategy setting (repeatable)")
    add(
        "--ledger",
        type=path_arg("--ledger"),
        metavar="DIR",
        help="write fills.csv, funding.csv and equity.csv there",
    )
    add("--walk-forward", action="store_true", help="re-choose --grid's parameters on rolling windows")
    add(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a parameter's values to sweep (the sets are the product of the lists; see --max-combinations)",
    )
    add("--in-sample-days", type=_days, default=365, metavar="N", help="walk-forward fit window (365)")
    add("--out-of-sample-days", type=_days, default=90, metavar="N", help="walk-forward test window (90)")
    add(
        "--monte-carlo",
        type=arg_type(count(1, MAX_PATHS)),
        metavar="N",
        help="N bootstrap paths of the daily returns",
    )
    add(
        "--seed",
        type=arg_type(count(0, MAX_SEED, noun="seed")),
        default=7,
        metavar="S",
        help="Monte Carlo seed (default 7)",
    )
    add(
        "--scenarios",
        action="store_true",
        help="replay the stress windows and the worst weeks on today's paper positions (else the final book)",
    )
    add(
        "--stress",
        action="append",
        type=stress_arg,
        default=[],
        metavar="FROM:TO",
        help="an extra stress window",
    )
    add(
        "--workers",
        type=arg_type(count(1, MAX_WORKERS, noun="number of workers")),
        metavar="N",
        help="processes for sweeps (default: one per core; at most 4 per core)",
    )
    add(
        "--max-combinations",
        type=arg_type(count(1, MAX_COMBINATIONS, noun="limit")),
        default=DEFAULT_COMBINATIONS,
        metavar="N",
        help=f"the most parameter sets --grid may give (default {DEFAULT_COMBINATIONS:,}; "
        f"at most {MAX_COMBINATIONS:,})",
    )
    add("--json", action="store_true", help="print JSON and nothing else")
    p.set_defaults(command="cmd_backtest")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="perptui",
        description="Terminal tools for small-account traders of crypto perpetual futures. "
        "With no command: the terminal app on the configured market (the offline demo market by default).",
    )
    parser.add_argument("--version", action="version", version=f"perptui {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=OneLineParser)
    parents = [data_options()]
    for add in (_app, _overview, _account, _size, _paper, _risk, _alerts, _watch, _scan, _markets, _fetch,
                _import, _cache, _config):  # fmt: skip
        add(sub, parents)
    from .parser_trading import add_order, add_orders

    add_order(sub, parents)
    add_orders(sub, parents)
    _optimize(sub, parents)
    _allocate(sub, parents)
    _backtest(sub, parents)
    parser.set_defaults(command="cmd_app")
    return parser


def handler_for(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The chosen command's ``run``, imported now."""
    return importlib.import_module(f"perptui.cli.{args.command}").run
