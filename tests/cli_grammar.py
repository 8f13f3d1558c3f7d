"""The command line's grammar, read from the parser itself: every command and action, each flag and
positional with the kind of value it takes, garbage each kind must refuse and a value each accepts.
Shared by the CLI fuzz test and the bad-input corpus (issue 19)."""

from __future__ import annotations

import argparse
from typing import Any

from perptui.cli.parser import build_parser

#: Garbage no value of the kind accepts, and a value each accepts.
BAD_NUMBERS = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "abc",
    "²",
    "١٢",
    "１２",
    "0x10",
    "1,500",
    "1.2.3",
    "\x00",
]
BAD: dict[str, list[str]] = {
    "number": BAD_NUMBERS,
    "numbers": ["", ",", "nan", "1,nan", "abc", "²", "١٢,1"],
    "paper": ["", "nan", "inf", "abc", "²", "١٢", "\x00"],
    "symbol": [
        "",
        " ",
        "BTC/USDT:USDT:USDT",
        "BTC/",
        "/",
        "BTC//USDT",
        "💩",
        "A" * 65,
        "BTC\x00",
        "a b",
        "-x",
    ],
    "symbols": ["", " ", ",", "BTC/USDT:USDT:USDT", "💩/USDT:USDT", "A" * 5000, "BTC,\x00"],
    "exchange": ["", " ", "no such", "💩", "nosuchexchange", "a" * 41, "demo\x00"],
    "timeframe": ["", "²h", "١h", "0h", "h", "3x", "1.5h", "1e3h", "99999999999999999999999h", "9999w"],
    "date": ["", " ", "nope", "0001-01-01", "9999-12-31", "2024-13-01", "2024-02-30", "²", "1e308"],
    "window": ["", "0001-01-01:2024-01-01", "2024-01-01:9999-12-31", "nope:nope", "2024-02-01:2024-01-01"],
    "id": ["", "0", "-1", "1.5", "1e3", "abc", "²", "99999999999999999999999", "9223372036854775808"],
    "path": ["", " ", "x\x00y"],
    "text": ["", " ", "\x00", "a" * 65],
    "choice": ["", "nope", "LONGX", "🙂"],
    "rule id": ["", " ", "-x", "Bad Id", "a:b", "a/b", "💩", "a" * 41, "x\x00"],
    "quiet hours": [
        "",
        "23:00",
        "7:00-8:00",
        "24:00-07:00",
        "23:60-07:00",
        "08:00-08:00",
        "٢٣:00-07:00",
        "nope",
    ],
}
GOOD: dict[str, str] = {
    "number": "1",
    "numbers": "1",
    "paper": "100",
    "symbol": "BTC",
    "symbols": "BTC",
    "exchange": "demo",
    "timeframe": "1h",
    "date": "2024-01-01",
    "window": "2024-01-01:2024-01-05",
    "id": "1",
    "path": "problem.json",
    "text": "abs_apr",
    "rule id": "btc-60k",
    "quiet hours": "23:00-07:00",
}
_BY_NAME = {
    "symbol_arg": "symbol",
    "symbols_arg": "symbols",
    "exchange_arg": "exchange",
    "timeframe_arg": "timeframe",
    "stress_arg": "window",
    "id_arg": "id",
    "_leverage": "number",
    "rule_id_arg": "rule id",
    "quiet_hours_arg": "quiet hours",
}
_BY_FACTORY = {
    "arg_type": "number",
    "arg_list_type": "numbers",
    "arg_of": "paper",
    "date_arg": "date",
    "path_arg": "path",
    "text_arg": "text",
}


def kind_of(action: argparse.Action) -> str | None:
    """The kind of value an argument takes, from its type; None when the command checks it itself."""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        return "choice"
    kind = action.type
    if kind is None:
        return None
    name = getattr(kind, "__qualname__", "")
    if name in _BY_NAME:
        return _BY_NAME[name]
    return _BY_FACTORY.get(name.partition(".<locals>")[0])


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and action reachable from ``parser``, with its parser; the app (no command) left
    out, since it is the terminal UI."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = [(path, parser)] if path and path != ("app",) else []
    for sub in subs:
        for name, child in sub.choices.items():
            found += commands(child, (*path, name))
    return found


GRAMMAR = commands(build_parser())


def value_args(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments of one command that take a value of a known kind."""
    return [
        a
        for a in parser._actions
        if not isinstance(a, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction)
        and a.nargs != 0
        and kind_of(a) is not None
    ]
