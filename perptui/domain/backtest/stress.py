"""Stress windows: how each layer and the whole book did through the named crashes (or any dates).

A window is whole UTC dates, first and last included: it spans [first 00:00, day after last 00:00).
It is measured on the run's own points from the last point at or before its start to the last point at
or before its end. Its funding and fees are the ledger entries whose amounts are in the equity change
between those two points: the engine books a trade or liquidation fill (stamped with its bar's open) and
a print inside a bar or at its open in that bar's close equity, so they count for times in [first point,
last point); a close fill (a market that stopped, a ruined layer) is stamped with the close whose equity
holds it, so it counts for times in (first point, last point].
A window the run does not reach gives a row saying so; one the run covers only in part is measured on
the part it covers, with a note. Pure (numpy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.backtest.metrics import metrics_of
from perptui.domain.backtest.types import KIND_CLOSE, BacktestResult
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, iso_utc, parse_utc


@dataclass(frozen=True, slots=True)
class StressWindow:
    name: str
    start_ms: int
    """00:00 UTC of the first date."""
    end_ms: int
    """00:00 UTC of the day after the last date (exclusive)."""
    about: str = ""

    @property
    def first_date(self) -> str:
        return (iso_utc(self.start_ms) or "")[:10]

    @property
    def last_date(self) -> str:
        return (iso_utc(self.end_ms - DAY_MS) or "")[:10]


def window(name: str, first: str, last: str, about: str = "") -> StressWindow:
    """Dates ``first`` to ``last``, both included."""
    start, end = parse_utc(first, "window start"), parse_utc(last, "window end") + DAY_MS
    if end <= start:
        raise UsageError(f"the last date {last} is before the first {first}")
    return StressWindow(name, start, end, about)


# The dates: from the day before the first big fall to a day or two after the low, so each window holds
# the whole fall and the first rebound (where funding flips and a carry book is squeezed).
NAMED_WINDOWS: dict[str, StressWindow] = {
    w.name: w
    for w in (
        # BTC ~58k on 10 May; Tesla drops BTC payments (12 May), China warns institutions (18 May), the
        # 19 May liquidation cascade to ~30k, a second leg to ~31k on 23 May; the rebound starts 24 May.
        window("may_2021", "2021-05-10", "2021-05-24", "May 2021 crash (China, Tesla, 19 May cascade)"),
        # The sell-off after the 4 May FOMC, UST's depeg (7-9 May) and LUNA's collapse (9-13 May), then
        # Celsius freezing withdrawals (12 June) and Three Arrows' failure, to BTC's ~17.6k low on 18 June.
        window("luna_2022", "2022-05-05", "2022-06-20", "LUNA/UST collapse to the Celsius and 3AC lows"),
        # Binance's FTT sale announced 6 Nov, FTX halts withdrawals 8 Nov and files for bankruptcy 11 Nov;
        # BTC bottoms near 15.5k on 21 Nov.
        window("ftx_2022", "2022-11-06", "2022-11-22", "FTX collapse"),
    )
}

_DATES = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*:\s*(\d{4}-\d{2}-\d{2})\s*$")


def parse_window(text: str) -> StressWindow:
    """``2024-03-01:2024-03-15`` (UTC dates, both included) or a named window (``may_2021``)."""
    if text.strip() in NAMED_WINDOWS:
        return NAMED_WINDOWS[text.strip()]
    match = _DATES.match(text)
    if match is None:
        names = ", ".join(NAMED_WINDOWS)
        raise UsageError(
            f"bad stress window {text!r}: use FIRST:LAST dates (e.g. 2024-03-01:2024-03-15) or {names}"
        )
    first, last = match.groups()
    for date in (first, last):
        try:
            parse_utc(date)
        except UsageError:
            raise UsageError(f"bad stress window {text!r}: {date} is not a date (YYYY-MM-DD)") from None
    try:
        return window(f"{first}:{last}", first, last)
    except UsageError as error:
        raise UsageError(f"bad stress window {text!r}: {error}") from None


def windows_of(texts: Sequence[str] | None) -> tuple[StressWindow, ...]:
    """The windows named or dated in ``texts``; None: every named window."""
    if texts is None:
        return tuple(NAMED_WINDOWS.values())
    return tuple(parse_window(text) for text in texts)


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One path through one window. ``total_return`` and the drawdown are None for a layer without
    capital; ``worst_day`` is None when the window holds no whole daily return."""

    total_return: float | None
    max_drawdown: float | None
    funding_pnl: float
    fees: float
    worst_day: float | None
    worst_day_time: int | None

    def as_dict(self) -> dict[str, float | str | None]:
        return {
            "total_return": self.total_return,
            "max_drawdown": self.max_drawdown,
            "funding_pnl": self.funding_pnl,
            "fees": self.fees,
            "worst_day": self.worst_day,
            "worst_day_time": iso_utc(self.worst_day_time),
        }


@dataclass(frozen=True, slots=True)
class StressRow:
    """A window's stats per layer and for the whole book; ``layers`` empty and ``total`` None when the
    run does not reach it (``note`` says so)."""

    window: StressWindow
    covered_start: int | None
    covered_end: int | None
    layers: dict[str, WindowStats]
    total: WindowStats | None
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.window.name,
            "first_date": self.window.first_date,
            "last_date": self.window.last_date,
            "covered_from": iso_utc(self.covered_start),
            "covered_to": iso_utc(self.covered_end),
            "note": self.note,
            "total": None if self.total is None else self.total.as_dict(),
            "layers": {name: stats.as_dict() for name, stats in self.layers.items()},
        }


def _in_span(times: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return (times >= lo) & (times < hi)


def _stats(times: np.ndarray, equity: np.ndarray, funding: float, fees: float) -> WindowStats:
    m = metrics_of(times, equity)
    return WindowStats(m.total_return, m.max_drawdown, funding, fees, m.worst_day, m.worst_day_time)


def stress_row(result: BacktestResult, w: StressWindow) -> StressRow:
    """One window measured on ``result`` (see the module's conventions)."""
    times = result.times
    if len(times) < 2 or w.end_ms <= times[0] or w.start_ms >= times[-1]:
        return StressRow(w, None, None, {}, None, note="outside the run")
    a = max(int(np.searchsorted(times, w.start_ms, side="right")) - 1, 0)
    b = int(np.searchsorted(times, w.end_ms, side="right")) - 1
    if b <= a:
        return StressRow(w, None, None, {}, None, note="outside the run: no bar closes inside it")
    lo, hi = int(times[a]), int(times[b])
    note = None
    if lo > w.start_ms or hi < w.end_ms:
        note = f"the run covers only {iso_utc(lo)} to {iso_utc(hi)} of it"
    span = slice(a, b + 1)
    paid = _in_span(result.funding.time, lo, hi)
    fills = result.fills
    at_close = fills.kind == KIND_CLOSE
    charged = np.where(at_close, (fills.time > lo) & (fills.time <= hi), _in_span(fills.time, lo, hi))
    layers: dict[str, WindowStats] = {}
    for index, layer in enumerate(result.layers):
        funding = float(result.funding.amount[paid & (result.funding.layer == index)].sum())
        fees = float(result.fills.fee[charged & (result.fills.layer == index)].sum())
        layers[layer.name] = _stats(times[span], layer.equity[span], funding, fees)
    total = _stats(
        times[span],
        result.equity[span],
        float(result.funding.amount[paid].sum()),
        float(result.fills.fee[charged].sum()),
    )
    return StressRow(w, lo, hi, layers, total, note)


def stress_metrics(result: BacktestResult, windows: Sequence[StressWindow]) -> list[StressRow]:
    """Each window's row, in the order given."""
    return [stress_row(result, w) for w in windows]
