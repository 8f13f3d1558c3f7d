"""The scanner table's columns: header, width, the sort key each column sorts by, and each cell's text
and tone (colour by sign, emphasis by size). No Textual: ``cells(row, view)`` is plain data, so the
table can compare a refresh's cells with the shown ones and write only what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.presentation import scan as sf
from perptui.ui.widgets.live_table import Cell, ColumnSpec

if TYPE_CHECKING:
    from perptui.domain.scanner import ScanRow

#: |APR| from which a funding figure is shown bold: a rate worth a carry trade's attention.
STRONG_APR = 0.30
#: |APR| below which a funding figure is muted: about a tenth of Binance's 0.01%/8h baseline.
FAINT_APR = 0.01
#: Funding due within this many ms is highlighted in the countdown.
SOON_MS = 10 * 60_000
#: A z-score at least this far from 0 is unusual against the last 30 days.
UNUSUAL_Z = 2.0


@dataclass(frozen=True, slots=True)
class View:
    """What a cell depends on besides its row."""

    now: int
    hold_days: float


CellOf = Callable[["ScanRow", View], Cell]


@dataclass(frozen=True, slots=True)
class ScanColumn:
    spec: ColumnSpec
    sort_key: str  # a key of ``perptui.domain.scanner.SORT_KEYS``
    cell: CellOf


def funding_tone(value: float | None, apr: float | None = None) -> str:
    """Green for positive (longs pay), red for negative; bold when |APR| is large, muted when tiny.
    ``apr`` sizes a per-interval rate; without it ``value`` is an APR."""
    if value is None:
        return "muted"
    size = abs(value if apr is None else apr)
    if value == 0 or size < FAINT_APR:
        return "muted"
    tone = "pos" if value > 0 else "neg"
    return f"{tone}-strong" if size >= STRONG_APR else tone


#: After a figure that rests on a window the cache holds only part of (see ``ScanRow.incomplete``).
INCOMPLETE_MARK = "*"


def _marked(row: ScanRow, stat: str, cell: Cell) -> Cell:
    """``cell`` muted and marked when its statistic rests on an incomplete window."""
    if not row.rests_on_incomplete(stat):
        return cell
    return cell[0] + INCOMPLETE_MARK, "muted"


def _apr_cell(value: float | None) -> Cell:
    return sf.signed_pct(value, 1), funding_tone(value)


def _mean(days: int) -> CellOf:
    stat = f"mean_apr_{days}d"
    return lambda row, view: _marked(row, stat, _apr_cell(getattr(row, stat)))


def _history(row: ScanRow, view: View) -> Cell:
    """The 90-day window's prints held as a share of those expected."""
    window = row.window(90)
    if window is None or window.expected is None:
        return sf.UNKNOWN, "muted"
    return sf.held(window), "" if window.complete else "warn"


def _rate(row: ScanRow, view: View) -> Cell:
    return sf.signed_pct(row.funding_rate, 4), funding_tone(row.funding_rate, row.apr)


def _predicted(row: ScanRow, view: View) -> Cell:
    value, hours = row.predicted_rate, row.interval_hours
    size = value * 24 * 365 / hours if value is not None and hours else None
    return sf.signed_pct(value, 4), funding_tone(value, size)


def _next(row: ScanRow, view: View) -> Cell:
    if row.next_funding_time is None:
        return sf.UNKNOWN, "muted"
    left = row.next_funding_time - view.now
    return sf.countdown(left), "warn" if left <= SOON_MS else ""


def _interval(row: ScanRow, view: View) -> Cell:
    return sf.interval(
        row.interval_hours, row.interval_inferred
    ), "muted" if row.interval_hours is None else ""


def _share(row: ScanRow, view: View) -> Cell:
    value = row.pct_positive_30d
    tone = "muted" if value is None else "pos" if value >= 0.8 else "neg" if value <= 0.2 else ""
    return _marked(row, "pct_positive_30d", (sf.share(value), tone))


def _zscore(row: ScanRow, view: View) -> Cell:
    z = row.zscore_30d
    if z is None:
        return sf.UNKNOWN, "muted"
    return _marked(row, "zscore_30d", (f"{z:+.1f}", "warn" if abs(z) >= UNUSUAL_Z else ""))


def _basis(row: ScanRow, view: View) -> Cell:
    value = row.basis
    tone = "muted" if value is None else "pos" if value > 0 else "neg" if value < 0 else ""
    return sf.signed_pct(value, 3), tone


def _money(value: float | None) -> Cell:
    return sf.money_short(value), "muted" if value is None else ""


def _net(row: ScanRow, view: View) -> Cell:
    value = row.carry_net_apr
    if value is None:
        return sf.UNKNOWN, "muted"
    tone = "pos" if value > 0 else "neg" if value < 0 else ""
    cell = sf.signed_pct(value, 1), f"{tone}-strong" if tone and abs(value) >= STRONG_APR else tone
    return _marked(row, "carry_net_apr", cell)


def breakeven_tone(days: float | None, hold_days: float) -> str:
    """Green within a week, plain within the holding period, red when it never pays back in time."""
    if days is None:
        return "muted"
    return "pos" if days <= min(7.0, hold_days) else "" if days <= hold_days else "neg"


def _breakeven(row: ScanRow, view: View) -> Cell:
    cell = sf.days(row.breakeven_days), breakeven_tone(row.breakeven_days, view.hold_days)
    return _marked(row, "breakeven_days", cell)


def _side(row: ScanRow, view: View) -> Cell:
    return sf.perp_side(row.carry_direction), "" if row.carry_direction else "muted"


def _column(
    key: str,
    header: str,
    width: int,
    sort_key: str,
    cell: Callable[[ScanRow, View], Cell],
    left: bool = False,
    max_width: int | None = None,
) -> ScanColumn:
    return ScanColumn(ColumnSpec(key, header, width, left, max_width), sort_key, cell)


#: In the order shown: what decides a carry trade first, the detail after (the table scrolls sideways
#: with the perp's name kept on the left).
COLUMNS: tuple[ScanColumn, ...] = (
    _column(
        "perp", "perp", 14, "symbol", lambda r, v: (sf.perp_name(r.symbol), "strong"), left=True, max_width=20
    ),
    _column("rate", "rate", 9, "funding_rate", _rate),
    _column("per", "per", 4, "interval_hours", _interval),
    _column("apr", "APR", 8, "abs_apr", lambda r, v: _apr_cell(r.apr)),
    _column("next", "next", 6, "next_funding_time", _next),
    _column("7d", "7d", 7, "mean_apr_7d", _mean(7)),
    _column("30d", "30d", 7, "mean_apr_30d", _mean(30)),
    _column("90d", "90d", 7, "mean_apr_90d", _mean(90)),
    _column("pos", "+30d", 5, "pct_positive_30d", _share),
    _column("z", "z30d", 5, "zscore_30d", _zscore),
    _column("net", "net APR", 8, "carry_net_apr", _net),
    _column("be", "BE d", 6, "breakeven_days", _breakeven),
    _column("hist", "hist", 4, "history_90d", _history),
    _column("side", "carry", 10, "carry_direction", _side, left=True),
    _column("pred", "pred", 9, "predicted_rate", _predicted),
    _column("basis", "basis", 8, "basis", _basis),
    _column("vol", "24h vol", 8, "volume_24h_usd", lambda r, v: _money(r.volume_24h_usd)),
    _column("oi", "OI", 8, "open_interest_usd", lambda r, v: _money(r.open_interest_usd)),
)

SPECS: tuple[ColumnSpec, ...] = tuple(c.spec for c in COLUMNS)


def cells(row: ScanRow, view: View) -> tuple[Cell, ...]:
    return tuple(column.cell(row, view) for column in COLUMNS)


def column_of_sort_key(sort_key: str) -> ScanColumn | None:
    return next((c for c in COLUMNS if c.sort_key == sort_key), None)


def sort_key_of_column(column_key: str) -> str:
    """What a click on the header of column ``column_key`` sorts by."""
    return next(c.sort_key for c in COLUMNS if c.spec.key == column_key)


def sort_label(sort_key: str) -> str:
    """The sort as the heading and the sorted column's header name it (``|APR|`` for ``abs_apr``)."""
    if sort_key == "abs_apr":
        return "|APR|"
    column = column_of_sort_key(sort_key)
    return column.spec.header if column else sort_key


def step_sort(sort_key: str, step: int) -> str:
    """The sort key of the column ``step`` columns right (negative: left) of the sorted one, wrapping."""
    current = column_of_sort_key(sort_key) or COLUMNS[0]
    return COLUMNS[(COLUMNS.index(current) + step) % len(COLUMNS)].sort_key
