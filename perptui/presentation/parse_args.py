"""Readers for the command line's text flags: symbols, exchange ids, timeframes, dates, ids, paths, and
the limits on work. Each is an argparse ``type=`` (a refusal is one line naming the flag, what was given
and what is accepted; exit 2), so a malformed flag stops the command before it opens the cache.

Numbers are ``perptui.presentation.parse``'s; these are the rest. Pure apart from ``date_arg``'s clock
(the latest date accepted is tomorrow, UTC) and ``exchange_arg``, which reads the ids ccxt knows from
its package's files.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import importlib.util
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from perptui.domain.alerts.rules import ID_FORM, parse_quiet_hours, rule_id_problem
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, parse_utc, timeframe_ms

from .parse import shown

#: Names of markets: ``BTC``, ``BTCUSDT``, ``BTC-USDT-SWAP``, ``BTC/USDT``, ``BTC/USDT:USDT``,
#: ``BTC/USDT:USDT-250328``: ASCII letters, digits, ``.``, ``_`` and ``-``, at most one ``/`` and one ``:``.
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_SYMBOL = re.compile(rf"{_PART}(?:/{_PART}(?::{_PART})?)?", re.ASCII)
MAX_SYMBOL_LEN = 64
#: ccxt exchange ids are lower-case ASCII words (binanceusdm, bybit, okx, gateio); ``demo`` is built in.
_EXCHANGE = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
MAX_EXCHANGE_LEN = 40
#: The first day any crypto market traded (Bitcoin's genesis block, 3 January 2009).
EARLIEST_DATE_MS = parse_utc("2009-01-03")
#: Database ids are SQLite integers.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"\+?[0-9]+", re.ASCII)


def _refuse(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def check_symbol(text: str) -> str:
    """A market's name as typed (stripped), or a UsageError saying what a name looks like."""
    name = str(text).strip()
    accepted = "e.g. BTC, BTCUSDT or BTC/USDT:USDT: letters, digits, '.', '_', '-', one '/' and one ':'"
    if not name:
        raise UsageError(f"{shown(text)} is empty: give a market ({accepted})")
    if len(name) > MAX_SYMBOL_LEN:
        raise UsageError(
            f"{shown(name)} is {len(name):,} characters long: a market's name has at most {MAX_SYMBOL_LEN}"
        )
    if _has_control(name) or not _SYMBOL.fullmatch(name):
        raise UsageError(f"{shown(name)} is not a market's name ({accepted})")
    return name


def symbol_arg(text: str) -> str:
    """``type=`` of a flag naming one market."""
    try:
        return check_symbol(text)
    except UsageError as exc:
        raise _refuse(str(exc)) from None


symbol_arg.__name__ = "symbol"


def symbols_arg(text: str) -> str:
    """``type=`` of ``--symbols``: one market or several separated by commas (``BTC,ETH``); an empty value
    (an unset shell variable) is refused rather than read as every market."""
    parts = [part.strip() for part in str(text).split(",")]
    if not any(parts):
        raise _refuse(
            f"{shown(text)} names no market: give one or more (BTC ETH, or BTC,ETH); leave the flag out "
            "for all of them"
        )
    for part in parts:
        if part:
            symbol_arg(part)
    return ",".join(part for part in parts if part)


symbols_arg.__name__ = "symbols"


@functools.cache
def ccxt_exchange_ids() -> frozenset[str]:
    """The ids ccxt knows, read from its package's module names (one per exchange) without importing
    it (a second of start-up, which the app's first frame must not wait for); empty if it is missing."""
    spec = importlib.util.find_spec("ccxt")
    if spec is None or spec.origin is None:
        return frozenset()
    return frozenset(p.stem for p in Path(spec.origin).parent.glob("*.py") if p.stem != "__init__")


def exchange_arg(text: str) -> str:
    """``type=`` of ``--exchange``: a ccxt exchange id or ``demo`` (whether ccxt knows it is checked when the
    exchange is opened)."""
    value = str(text).strip().lower()
    accepted = "a ccxt exchange id such as binanceusdm, bybit or okx, or demo"
    if not value:
        raise _refuse(f"{shown(text)} is empty: give {accepted}")
    if len(value) > MAX_EXCHANGE_LEN or _has_control(value) or not _EXCHANGE.fullmatch(value):
        raise _refuse(f"{shown(text)} is not an exchange id ({accepted})")
    known = ccxt_exchange_ids()
    if value != "demo" and known and value not in known:
        close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise _refuse(f"unknown exchange {value!r}{hint} ({accepted})")
    return value


exchange_arg.__name__ = "exchange"


def timeframe_arg(text: str) -> str:
    """``type=`` of a bar size: ``1m``, ``15m``, ``1h``, ``8h``, ``1d``, ``1w`` (ASCII digits)."""
    try:
        timeframe_ms(str(text))
    except UsageError as exc:
        raise _refuse(str(exc)) from None
    return str(text).strip()


timeframe_arg.__name__ = "timeframe"


def latest_date_ms() -> int:
    """Tomorrow, UTC: no history or plan reaches further."""
    return int(time.time() * 1000) + DAY_MS


def check_date(text: str, what: str) -> int:
    """Epoch ms of a date or time typed, from 2009-01-03 (the first day of crypto) to tomorrow."""
    raw = str(text).strip()
    if not raw:
        raise UsageError(f"{what} is empty: give a UTC date or time, e.g. 2024-01-31 or 2024-01-31T08:00")
    if _has_control(raw) or not raw.isascii():
        raise UsageError(f"bad {what} {shown(raw)}: use an ISO date or time in UTC, e.g. 2024-01-31")
    ms = parse_utc(raw, what)
    if ms < EARLIEST_DATE_MS:
        raise UsageError(f"{what} {raw} is before 2009-01-03, the first day of crypto: give a later date")
    if ms > latest_date_ms():
        raise UsageError(f"{what} {raw} is in the future: give a date up to tomorrow (UTC)")
    return ms


def date_arg(what: str) -> Callable[[str], str]:
    """``type=`` of a date flag: the text as typed, once it reads as a date in range (the command parses it
    again, against its own clock)."""

    def convert(text: str) -> str:
        try:
            check_date(text, what)
        except UsageError as exc:
            raise _refuse(str(exc)) from None
        return str(text).strip()

    convert.__name__ = "date"
    return convert


def stress_arg(text: str) -> str:
    """``type=`` of ``--stress FROM:TO`` (or a named window, checked by the backtest): two dates in range,
    the first not after the last."""
    value = str(text).strip()
    if not value:
        raise _refuse(f"{shown(text)} is empty: use FROM:TO dates, e.g. 2024-08-01:2024-08-10, or a name")
    first, sep, last = value.partition(":")
    if not sep:
        return value
    try:
        start = check_date(first, "the window's first date")
        end = check_date(last, "the window's last date")
    except UsageError as exc:
        raise _refuse(f"in {shown(text)}: {exc}") from None
    if end < start:
        raise _refuse(f"{shown(text)}: the last date is before the first")
    return value


stress_arg.__name__ = "window"


def id_arg(text: str) -> int:
    """``type=`` of a record's number (an order id): a whole number from 1 to 2^63 - 1 (SQLite's)."""
    value = str(text).strip()
    if not _DIGITS.fullmatch(value):
        raise _refuse(f"{shown(text)} is not an id: give the order's number, e.g. 12")
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise _refuse(f"{shown(text)} is not an id: ids are whole numbers from 1 to {MAX_ID:,}")
    return number


id_arg.__name__ = "id"


def rule_id_arg(text: str) -> str:
    """``type=`` of an alert rule's id: a slug (``btc-below-60k``), as ``perptui alerts list`` shows."""
    value = str(text).strip()
    if rule_id_problem(value) is not None:
        raise _refuse(f"{shown(text)} is not a rule id: use {ID_FORM}")
    return value


rule_id_arg.__name__ = "rule id"


def quiet_hours_arg(text: str) -> tuple[int, int]:
    """``type=`` of ``--quiet HH:MM-HH:MM`` (UTC, may wrap midnight): the span in minutes of the day."""
    try:
        return parse_quiet_hours(str(text))
    except ValueError as exc:
        raise _refuse(f"{shown(text)} {exc}") from None


quiet_hours_arg.__name__ = "quiet hours"


def path_arg(what: str) -> Callable[[str], Path]:
    """``type=`` of a file or folder flag: an empty value (an unset shell variable) is refused rather than
    read as the current folder."""

    def convert(text: str) -> Path:
        if not str(text).strip():
            raise _refuse(f"{what} is empty: give a path (an unset variable?)")
        if "\x00" in str(text):
            raise _refuse(f"{what} {shown(text)} holds a NUL character: give a path")
        return Path(text)

    convert.__name__ = "path"
    return convert


def text_arg(what: str, accepted: str) -> Callable[[str], str]:
    """``type=`` of a free word (a column to sort by): not empty, no control characters."""

    def convert(text: str) -> str:
        value = str(text).strip()
        if not value or _has_control(value) or len(value) > 64:
            raise _refuse(f"{what} {shown(text)} is not accepted: give {accepted}")
        return value

    convert.__name__ = "text"
    return convert


def check_work(what: str, amount: float, limit: int, how_to_raise: str) -> None:
    """Refuse work above a limit with a line giving the amount, the limit and how to raise it."""
    if not math.isfinite(amount) or amount > limit:
        raise UsageError(f"{what} gives {amount:,.0f}, above the limit of {limit:,}: {how_to_raise}")


def grid_size(items: Sequence[str]) -> int:
    """The number of parameter sets ``--grid KEY=V1,V2 ...`` asks for (the product of the value counts),
    counted before any value is read."""
    size = 1
    for item in items:
        size *= max(1, len(item.partition("=")[2].split(",")))
    return size
