"""The backtest screen's dialogs, without Textual: what a typed span, capital, number of paths, stress
window or export folder means, or a one-line UsageError saying what is wrong and what is accepted."""

from __future__ import annotations

import time
from collections.abc import Sequence

from perptui.domain.errors import UsageError
from perptui.domain.quantities import MAX_PATHS
from perptui.presentation.parse import count, money, parse_number
from perptui.ui.screens.backtest.setup import date_text

DAY_MS = 86_400_000


def parse_span(texts: Sequence[str], now_ms: int) -> tuple[int, int]:
    """(since, until) from the dates typed; UsageError (one line) when they are not a span in the past."""
    from perptui.domain.timeframes import parse_utc

    since = parse_utc(texts[0], "from date")
    until = parse_utc(texts[1], "to date") if texts[1].strip() else now_ms
    if until > now_ms:
        raise UsageError(
            f"to: {texts[1].strip()} is in the future (now is {date_text(now_ms)}); use an earlier date"
        )
    if until - since < 2 * DAY_MS:
        raise UsageError(f"from {texts[0].strip()} must be at least 2 days before to {date_text(until)}")
    return since, until


def parse_capital(text: str) -> float:
    try:
        return parse_number(text, money())
    except UsageError as exc:
        raise UsageError(f"capital: {exc}") from None


def parse_paths(text: str) -> int:
    try:
        return int(parse_number(text, count(0, MAX_PATHS, noun="number of paths")))
    except UsageError as exc:
        raise UsageError(f"Monte Carlo paths: {exc} (0: none)") from None


def parse_window(text: str) -> tuple[str, ...]:
    """A stress window ``FIRST:LAST`` (UTC dates, both included); empty: none."""
    from perptui.domain.timeframes import parse_utc

    raw = text.strip()
    if not raw:
        return ()
    first, sep, last = raw.partition(":")
    if not sep:
        raise UsageError(f"stress window {raw!r}: type FIRST:LAST dates, e.g. 2024-08-01:2024-08-10")
    if parse_utc(last, "last date") < parse_utc(first, "first date"):
        raise UsageError(f"stress window {raw!r}: the last date is before the first")
    return (f"{first.strip()}:{last.strip()}",)


def default_folder(data_dir: str, strategy: str, now_ms: int) -> str:
    """``<data dir>/backtests/<strategy>-<UTC stamp>``: the ledgers' folder unless another is typed."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_ms / 1000))
    return f"{data_dir.rstrip('/')}/backtests/{strategy}-{stamp}"


def parse_folder(text: str) -> str:
    folder = text.strip()
    if not folder:
        raise UsageError("type a folder for the ledgers (it is created when missing)")
    return folder
