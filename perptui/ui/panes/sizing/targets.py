"""The sizing pane's take-profit table: each target's price, reward to risk, what it closes and the PnL
at it (money masked in privacy mode); dimmed while the form is not valid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market


class TargetsCard(Vertical):
    last: tuple[SizingResult, Market] | None = None

    def compose(self) -> ComposeResult:
        yield Static("the targets appear once the trade is sized", id="targets-table")

    def show(self, r: SizingResult | None, m: Market | None, private: bool, *, valid: bool = True) -> None:
        table = self.query_one("#targets-table", Static)
        if r is None or m is None:
            return
        self.last = (r, m)
        self.set_class(not valid, "-invalid")
        if not r.take_profits:
            table.update(Content.styled("no targets: type R multiples in Targets, e.g. 1,2,3", "$text-muted"))
            return
        widths = (6, 13, 14, 19, 17)
        header = ("target", "price", "reward : risk", "closes", "PnL at target")
        lines = [
            Content.assemble(*(_cell(h, w, i) for i, (h, w) in enumerate(zip(header, widths, strict=True))))
        ]
        lines[0] = lines[0].stylize("bold")
        for n, tp in enumerate(r.take_profits, 1):
            pnl = fmt.money(tp.pnl, m.settle, private=private, signed=True)
            cells = (
                f"TP{n}",
                fmt.price(tp.price, m.price_tick),
                f"{tp.r:.2f} : 1",
                f"{fmt.qty(tp.qty, m.amount_step)} ({tp.share * 100:.0f}%)",
                pnl,
            )
            texts = [_cell(c, w, i) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
            row: list[str | tuple[str, str]] = list(texts)
            if valid:  # a stale table stays in the dimmed colour
                row[-1] = (texts[-1], "$text-success" if tp.pnl > 0 else "$text-error")
            lines.append(Content.assemble(*row))
        table.update(Content("\n").join(lines))

    def invalidate(self, private: bool) -> None:
        if self.last is not None:
            self.show(*self.last, private, valid=False)
        self.set_class(True, "-invalid")


def _cell(text: str, width: int, index: int) -> str:
    return f"{text:<{width}}" if index == 0 else f"{text:>{width}}"
