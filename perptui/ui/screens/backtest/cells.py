"""The report's tables as cells, without Textual: the metrics of each layer and the total, and the whole
book in each stress window; each cell a (text, tone), unknowns an em dash, money masked in privacy mode.
The columns and how a table splits under 100 columns (the first column repeated) sit with the rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.backtest.metrics import Metrics
    from perptui.services.backtest import BacktestReport

Cell = tuple[str, str]  # (text, tone), as LiveTable takes them
Column = tuple[str, int, bool]  # (header, width, left-aligned)
Rows = dict[str, tuple[Cell, ...]]  # by name; the first cell is the row's name

METRIC_COLUMNS: list[Column] = [
    ("layer", 11, True),
    ("return", 8, False),
    ("CAGR", 8, False),
    ("vol", 7, False),
    ("Sharpe", 6, False),
    ("Sortino", 7, False),
    ("max DD", 7, False),
    ("Calmar", 6, False),
    ("price PnL", 9, False),
    ("funding", 8, False),
    ("fees", 7, False),
    ("turnover", 8, False),
]
STRESS_COLUMNS: list[Column] = [
    ("stress window", 13, True),
    ("dates", 23, True),
    ("return", 7, False),
    ("max DD", 7, False),
    ("worst day", 9, False),
    ("funding", 8, False),
    ("fees", 7, False),
    ("", 24, True),
]
#: Under 100 columns the wide tables are drawn as two: the columns of each (the first one repeated).
METRIC_SPLIT: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4, 5, 6, 7), (0, 8, 9, 10, 11))
STRESS_SPLIT: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4), (0, 5, 6, 7))


def _pct(x: float | None, decimals: int = 1) -> str:
    return fmt.pct(x, decimals)


def _ratio(x: float | None) -> str:
    return fmt.UNKNOWN if x is None or not math.isfinite(x) else f"{x:.2f}"


def _tone(x: float | None) -> str:
    if x is None or not math.isfinite(x) or x == 0:
        return ""
    return "pos" if x > 0 else "neg"


def _money(x: float | None, private: bool) -> Cell:
    return fmt.money(x, private=private, decimals=0), "" if private else _tone(x)


def metric_cells(m: Metrics, *, private: bool, strong: bool = False) -> tuple[Cell, ...]:
    """return, CAGR, vol, Sharpe, Sortino, max DD, Calmar, price PnL, funding, fees, turnover."""
    dd = m.max_drawdown
    cells: tuple[tuple[str, str], ...] = (
        (_pct(m.total_return), _tone(m.total_return)),
        (_pct(m.cagr), _tone(m.cagr)),
        (_pct(m.volatility), ""),
        (_ratio(m.sharpe), _tone(m.sharpe)),
        (_ratio(m.sortino), _tone(m.sortino)),
        (fmt.UNKNOWN if dd is None else _pct(-dd), "neg" if dd else ""),
        (_ratio(m.calmar), ""),
        _money(m.price_pnl, private),
        _money(m.funding_pnl, private),
        _money(None if m.fees is None else -m.fees, private),
        (fmt.UNKNOWN if m.turnover is None else f"{m.turnover:.1f}x", ""),
    )
    if strong:
        cells = tuple(
            (text, f"{tone}-strong" if tone in ("pos", "neg") else "strong") for text, tone in cells
        )
    return cells


def metric_rows(report: BacktestReport, *, private: bool) -> Rows:
    """Each layer, then the total (bold), keyed by name: the first cell is the row's name."""
    rows: Rows = {}
    if len(report.layers) > 1:
        for name, m in report.layers.items():
            rows[name] = ((name, ""), *metric_cells(m, private=private))
    rows["total"] = (("total", "strong"), *metric_cells(report.metrics, private=private, strong=True))
    return rows


def stress_rows(report: BacktestReport, *, private: bool) -> Rows:
    """window, dates, return, max DD, worst day, funding, fees, note: the whole book in each window."""
    rows: Rows = {}
    for row in report.stress:
        w, t = row.window, row.total
        ret = None if t is None else t.total_return
        dd = None if t is None else t.max_drawdown
        worst = None if t is None else t.worst_day
        rows[w.name] = (
            ("your window" if ":" in w.name else w.name, ""),  # a typed window is named by its dates
            (f"{w.first_date} → {w.last_date}", "muted"),
            (_pct(ret), _tone(ret)),
            (fmt.UNKNOWN if dd is None else _pct(-dd), "neg" if dd else ""),
            (_pct(worst), _tone(worst)),
            _money(None if t is None else t.funding_pnl, private),
            _money(None if t is None else -t.fees, private),
            (row.note or "", "warn" if row.note else ""),
        )
    return rows
