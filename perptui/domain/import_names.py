"""Names read from files and import flags: market symbols and file names. Pure.

A file's symbol is stored as it is read and becomes a series key, so only plain market names pass:
ASCII letters and digits for base and quote (``1000PEPE``, ``BTC``), a known quote currency, a sane
length, no control or other characters (the issue's ``💩/USDT:USDT``, a 5,000-character name, a NUL).
A file name names its market only when it is such a name and nothing else (``BTCUSDT.csv``,
``BTC-USDT.csv.gz``); ``bad_BTCUSDT.csv`` is not read as ``BADBTC/USDT:USDT``.
"""

from __future__ import annotations

import re

from perptui.domain.symbols import KNOWN_QUOTES, unified_perp

#: The longest name accepted, before anything else is checked (Binance's longest perp id is 16).
MAX_SYMBOL_CHARS = 40
_UNIFIED = re.compile(r"^[A-Z0-9]{1,20}/[A-Z0-9]{2,10}:[A-Z0-9]{2,10}(-\d{6})?$")
_QUOTES = "|".join(KNOWN_QUOTES)
_FILE_STEM = re.compile(rf"^[A-Z0-9]{{1,20}}[-_]?(?:{_QUOTES})$")
ACCEPTED = "a market name like BTCUSDT, BTC-USDT or BTC/USDT:USDT (ASCII letters and digits)"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...") + (
        f" ({len(text):,} characters)" if len(text) > 40 else ""
    )


def symbol_problem(text: str) -> str | None:
    """Why ``text`` is not a market name (None when it is)."""
    if len(text) > MAX_SYMBOL_CHARS:
        return f"symbol {_shown(text)} is longer than {MAX_SYMBOL_CHARS} characters"
    if not text.isascii() or not text.isprintable():
        return f"symbol {_shown(text)} holds characters other than ASCII letters, digits and / : - _"
    perp = unified_perp(text)
    if perp is None or not _UNIFIED.match(perp):
        return f"symbol {_shown(text)} is not {ACCEPTED}"
    return None


def market_symbol(text: str) -> str:
    """``text`` as a unified perp symbol; ValueError naming what is wrong and what is accepted."""
    problem = symbol_problem(text.strip())
    if problem is not None:
        raise ValueError(problem)
    perp = unified_perp(text)
    assert perp is not None
    return perp


def symbol_of_file_stem(stem: str) -> str | None:
    """The perp a file's name (without ``.csv``/``.gz``) names, or None when it is not just a name."""
    if not _FILE_STEM.match(stem.strip().upper()):
        return None
    return unified_perp(stem)
