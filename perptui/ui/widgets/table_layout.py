"""Where a ``LiveTable``'s columns sit and which of them fit on screen. No Textual.

A column is as wide as the widest of its least width, its header and every text it has shown (a
column never narrows while the table lives, so live updates do not make the columns jump). A text
column may set a ``max_width``: longer texts end in "…". Numbers have no cap, so a number is always
drawn whole.

Sideways the table moves by whole columns: the first column stays in place and the others are shown
from a *first scrolled column* on, as many as fit whole; a column that does not fit is left out, never
drawn in part, and the header says how many are hidden on each side.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Cell = tuple[str, str]  # (text, tone)
PAD = 1  # blank cells on each side of a column
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    header: str
    width: int  # the least width; the column widens to its header and its texts
    left: bool = False  # text columns are left-aligned, numbers right-aligned
    max_width: int | None = None  # text columns only: longer texts are cut with "…"


@dataclass(frozen=True, slots=True)
class Window:
    """The scrolled columns shown: ``first`` up to ``stop`` (excluded), and how many are hidden."""

    first: int
    stop: int
    hidden_left: int
    hidden_right: int


def clip(text: str, width: int) -> str:
    """The text in a column ``width`` wide: whole, or cut with "…" (only a capped text column is ever
    narrower than its texts)."""
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


class ColumnLayout:
    """The columns' widths and offsets (text lengths in cells; the tables' texts are single-width)."""

    def __init__(self, specs: Sequence[ColumnSpec]) -> None:
        self.specs = list(specs)
        self.widths = [self._cap(spec, max(spec.width, len(spec.header))) for spec in self.specs]
        self._place()

    @staticmethod
    def _cap(spec: ColumnSpec, width: int) -> int:
        if spec.max_width is None:
            return width
        return min(width, max(spec.max_width, spec.width, len(spec.header)))

    def _place(self) -> None:
        self.starts: list[int] = []
        x = 0
        for width in self.widths:
            self.starts.append(x)
            x += width + 2 * PAD
        self.total = x
        self.fixed = self.starts[1] if len(self.starts) > 1 else x
        #: Offsets of the scrolled columns (1..) from the first scrolled column's start.
        self._offsets = [start - self.fixed for start in self.starts[1:]]
        self._edges = [*self.starts[1:], self.total]  # where each scrolled column starts, then the end

    def fit(self, rows: Iterable[Sequence[Cell]]) -> bool:
        """Widen the columns to the rows' texts; True when a width changed."""
        widths = self.widths
        grown = False
        for cells in rows:
            for i, (text, _) in enumerate(cells):
                if len(text) > widths[i]:
                    width = self._cap(self.specs[i], len(text))
                    if width > widths[i]:
                        widths[i], grown = width, True
        if grown:
            self._place()
        return grown

    def fit_header(self, index: int, label: str) -> bool:
        """Widen a column to a new header (headers are never cut); True when its width changed."""
        if len(label) <= self.widths[index]:
            return False
        self.widths[index] = len(label)
        self._place()
        return True

    def offset_of(self, column: int) -> int:
        """The scroll offset that shows ``column`` (1..) first."""
        return self._offsets[column - 1] if column >= 1 else 0

    def first_at(self, offset: float) -> int:
        """The first scrolled column at a scroll offset: the first whose start is at or past it, so an
        offset between two columns (a wheel or the scrollbar) snaps to the next one, and the largest
        offset shows the last columns whole."""
        if len(self.specs) < 2:
            return 1
        return min(1 + bisect_left(self._offsets, offset), len(self.specs) - 1)

    def window(self, offset: float, width: int) -> Window:
        """The scrolled columns that fit whole in ``width`` cells after the first column. When some are
        left out on the right, one cell stays free after the last one shown for the header's mark."""
        first = self.first_at(offset)
        stop = self._stop(first, width - self.fixed)
        if stop < len(self.widths):
            stop = self._stop(first, width - self.fixed - 1)
        return Window(first, stop, max(0, first - 1), len(self.widths) - stop)

    def _stop(self, first: int, room: int) -> int:
        stop = first
        while stop < len(self.widths):
            room -= self.widths[stop] + 2 * PAD
            if room < 0:
                break
            stop += 1
        return stop

    def span(self, window: Window) -> tuple[int, int]:
        """Where the window's columns lie in a whole row (start, end)."""
        return self._edges[window.first - 1], self._edges[window.stop - 1]

    def column_at(self, x: int, window: Window) -> int | None:
        """The column under screen column ``x`` (None past the shown columns)."""
        if x < self.fixed:
            return 0
        x -= self.fixed
        for column in range(window.first, window.stop):
            x -= self.widths[column] + 2 * PAD
            if x < 0:
                return column
        return None
