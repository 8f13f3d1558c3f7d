"""Under the tables: the identity the run's ledgers satisfy (so a trader sees the run adds up), the fills
and liquidations, then the report's notes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.screens.backtest.series import Shown


def reconciled_line(shown: Shown, *, private: bool) -> str:
    """The identity the ledgers satisfy, so a trader sees the run adds up."""
    r = shown.report.result
    report = shown.report
    m = lambda x: fmt.money(x, private=private)  # noqa: E731
    fills = len(r.fills.time)
    liquidations = sum(layer.liquidations for layer in r.layers)
    return (
        f"{m(r.capital)} + price {m(r.price_pnl)} + funding {m(r.funding_pnl)} − fees {m(r.fees)} = "
        f"{m(float(r.equity[-1]))}, reconciled (±{report.reconcile_error:.0e}) · {fills:,} fills · "
        f"{liquidations} liquidation{'' if liquidations == 1 else 's'}"
    )


class RunNotes(VerticalScroll):
    """Four lines at most on a tall screen (it scrolls, and takes the focus, when there is more); on a
    short one every line, and the screen scrolls."""

    def allow_focus(self) -> bool:
        """Focusable only when there is more to read than it shows: otherwise the focus would take the
        screen's scroll keys for nothing."""
        return self.max_scroll_y > 0

    def compose(self) -> ComposeResult:
        yield Static("", id="bt-notes", markup=False)

    def show(self, shown: Shown, *, private: bool) -> None:
        notes = [reconciled_line(shown, private=private), *shown.report.notes]
        self.query_one("#bt-notes", Static).update("\n".join(notes))
