"""A results table (the metrics, the stress windows): fixed-width columns, a header on the panel colour,
each cell in its tone, no cursor (every row keeps its colours). Under 100 columns (``narrow``) it is
drawn as two tables, one under the other, the first column repeated, so no row wraps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.ui.screens.backtest.cells import Cell, Column, Rows

if TYPE_CHECKING:
    from perptui.services.backtest import BacktestReport

#: LiveTable's tones as theme styles.
TONE_STYLES = {
    "pos": "$text-success",
    "neg": "$text-error",
    "pos-strong": "bold $text-success",
    "neg-strong": "bold $text-error",
    "warn": "$text-warning",
    "strong": "bold",
    "muted": "$text-muted",
}


def table(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> Content:
    """A header, then one line per row, each cell in its tone."""

    def line(cells: Sequence[tuple[str, str]]) -> Content:
        parts = []
        for (_, width, left), (text, tone) in zip(columns, cells, strict=True):
            text = text[:width].ljust(width) if left else text[:width].rjust(width)
            parts.append(Content.styled(f" {text} ", TONE_STYLES.get(tone, "")))
        return Content("").join(parts)

    header = line([(name, "strong") for name, _, _ in columns])
    head = header.stylize("on $panel")
    return Content("\n").join([head, *(line(cells) for cells in rows)])


def tables(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
    split: Sequence[Sequence[int]] | None,
) -> Content:
    """``table``, whole, or ``split`` into one table per group of column indices, one under another."""
    if split is None:
        return table(columns, rows)
    listed = list(rows)
    parts = [table([columns[i] for i in group], [[r[i] for i in group] for r in listed]) for group in split]
    return Content("\n").join(parts)


class ResultTable(Static):
    def __init__(
        self,
        columns: Sequence[Column],
        split: Sequence[Sequence[int]],
        rows: Callable[..., Rows],
        *,
        id: str,
    ) -> None:
        """``rows(report, private=...)`` gives the cells; ``split`` the column groups when narrow."""
        super().__init__("", id=id)
        self.columns, self.split, self.rows = columns, split, rows

    def show(self, report: BacktestReport, *, private: bool, narrow: bool) -> None:
        rows = self.rows(report, private=private)
        self.update(tables(self.columns, rows.values(), self.split if narrow else None))
