"""``PriceLadder``: a trade's prices on one vertical scale (targets, break-even, entry, mark, stop,
liquidation), labelled and coloured, with the risk (entry to stop) and reward (entry to the last target)
drawn on the axis. A level far outside the trade's range (usually the liquidation price) is clipped to
the edge with an arrow; a level that does not exist or is not known is said so below the scale."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from perptui.presentation import numbers as fmt

Kind = Literal["target", "breakeven", "entry", "mark", "stop", "liquidation"]

#: A level further from the trade's range than this many times its span is clipped to the edge.
CLIP_SPANS = 1.0


@dataclass(frozen=True, slots=True)
class Level:
    kind: Kind
    label: str
    price: float


@dataclass(frozen=True, slots=True)
class Placed:
    level: Level
    row: int
    clipped: int  # 0 inside the scale; +1 beyond the top, -1 beyond the bottom


def layout(levels: Sequence[Level], rows: int) -> list[Placed]:
    """Place levels on ``rows`` rows, highest price at row 0; levels far from the others are clipped to
    the edge row and marked; levels that share a row are moved apart keeping their order."""
    if rows < 2 or not levels:
        return []
    core = [lv.price for lv in levels if lv.kind != "liquidation"] or [lv.price for lv in levels]
    lo, hi = min(core), max(core)
    span = hi - lo or abs(hi) * 0.01 or 1.0
    lo_limit, hi_limit = lo - CLIP_SPANS * span, hi + CLIP_SPANS * span
    inside = [lv.price for lv in levels if lo_limit <= lv.price <= hi_limit]
    lo, hi = min([*inside, lo]), max([*inside, hi])
    pad = (hi - lo or span) * 0.04
    lo, hi = lo - pad, hi + pad
    ordered = sorted(levels, key=lambda lv: (-lv.price, _ORDER.index(lv.kind)))
    placed: list[Placed] = []
    for lv in ordered:
        if lv.price > hi_limit:
            placed.append(Placed(lv, 0, 1))
        elif lv.price < lo_limit:
            placed.append(Placed(lv, rows - 1, -1))
        else:
            placed.append(Placed(lv, round((hi - lv.price) / (hi - lo) * (rows - 1)), 0))
    return _spread(placed, rows)


def _spread(placed: list[Placed], rows: int) -> list[Placed]:
    """Move levels sharing a row apart (downwards, then back up from the bottom) keeping their order."""
    rows_taken = [p.row for p in placed]
    for i in range(1, len(rows_taken)):
        rows_taken[i] = max(rows_taken[i], rows_taken[i - 1] + 1)
    for i in range(len(rows_taken) - 1, -1, -1):
        limit = rows - 1 if i == len(rows_taken) - 1 else rows_taken[i + 1] - 1
        rows_taken[i] = min(rows_taken[i], limit)
    return [Placed(p.level, max(0, r), p.clipped) for p, r in zip(placed, rows_taken, strict=True)]


_ORDER: tuple[Kind, ...] = ("target", "breakeven", "entry", "mark", "stop", "liquidation")


class PriceLadder(Widget):
    """Set ``levels`` (and ``notes`` for levels that are unknown or do not exist)."""

    DEFAULT_CSS = """
    PriceLadder { height: 1fr; width: 1fr; }
    PriceLadder > .ladder--axis { color: $text-muted; }
    PriceLadder > .ladder--entry { color: $text-primary; text-style: bold; }
    PriceLadder > .ladder--mark { color: $text-muted; }
    PriceLadder > .ladder--stop { color: $text-error; text-style: bold; }
    PriceLadder > .ladder--target { color: $text-success; }
    PriceLadder > .ladder--breakeven { color: $text-muted; }
    PriceLadder > .ladder--liquidation { color: $text-warning; text-style: bold; }
    PriceLadder > .ladder--risk { color: $text-error; }
    PriceLadder > .ladder--reward { color: $text-success; }
    PriceLadder > .ladder--note { color: $text-muted; }
    PriceLadder > .ladder--empty { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--axis",
        "ladder--entry",
        "ladder--mark",
        "ladder--stop",
        "ladder--target",
        "ladder--breakeven",
        "ladder--liquidation",
        "ladder--risk",
        "ladder--reward",
        "ladder--note",
        "ladder--empty",
    }

    levels: reactive[tuple[Level, ...]] = reactive((), layout=False)
    notes: reactive[tuple[str, ...]] = reactive(())

    def __init__(self, price_text: Callable[[float], str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.price_text = price_text or (lambda p: fmt.price(p, None))
        self.empty_text = "no trade to draw"

    def show(self, levels: Sequence[Level], notes: Sequence[str], price_text: Callable[[float], str]) -> None:
        self.price_text = price_text
        self.notes = tuple(notes)
        self.levels = tuple(levels)

    def clear(self, why: str) -> None:
        self.empty_text = why
        self.notes = ()
        self.levels = ()
        self.refresh()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"ladder--{name}")

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        rows = height - len(self.notes)
        placed = layout(self.levels, rows)
        if not placed:
            return Text(self.empty_text, style=self._style("empty"), no_wrap=True)
        by_row = {p.row: p for p in placed}
        zones = self._zones(placed)
        lines: list[Text] = []
        for row in range(rows):
            line = Text(no_wrap=True, overflow="ellipsis")
            p = by_row.get(row)
            zone = zones.get(row)
            axis_style = self._style(zone) if zone else self._style("axis")
            if p is None:
                line.append(" ┃" if zone else " │", axis_style)
            else:
                style = self._style(p.level.kind)
                arrow = {1: "▲", -1: "▼"}.get(p.clipped)
                line.append(
                    f" {arrow}" if arrow else (" ┣" if zone else " ├"), style if arrow else axis_style
                )
                line.append("━ " if p.level.kind == "entry" else "─ ", style)
                label = f"{p.level.label:<6}"
                price = self.price_text(p.level.price)
                gap = max(1, width - 4 - len(label) - len(price))
                line.append(label, style)
                line.append(" " * gap)
                line.append(price, style)
            lines.append(line)
        lines += [
            Text(note, style=self._style("note"), no_wrap=True, overflow="ellipsis") for note in self.notes
        ]
        return Text("\n", no_wrap=True, overflow="ellipsis").join(lines)

    @staticmethod
    def _zones(placed: Sequence[Placed]) -> dict[int, str]:
        """Rows between the entry and the stop (risk) and between the entry and the last target (reward)."""
        rows = {p.level.kind: p.row for p in placed if p.level.kind in ("entry", "stop")}
        zones: dict[int, str] = {}
        entry = rows.get("entry")
        if entry is None:
            return zones
        stop = rows.get("stop")
        if stop is not None:
            for r in range(min(entry, stop), max(entry, stop) + 1):
                zones[r] = "risk"
        targets = [p.row for p in placed if p.level.kind == "target" and not p.clipped]
        if targets:
            far = min(targets) if stop is None or stop > entry else max(targets)
            for r in range(min(entry, far), max(entry, far) + 1):
                zones.setdefault(r, "reward")
            zones[entry] = "axis"
        return zones
