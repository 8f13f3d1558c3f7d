"""The sizing pane's verdict: what decided the size (highlighted), the warnings, each in its colour, the
largest size by each constraint; or why there is no result. Money in the sentences is masked in privacy
mode."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market

#: A typed price far from the mark (likely a typo: a second look before ordering).
FAR_FROM_MARK = "far_from_mark"
#: Warnings about a trade that cannot work as planned; the others are cautions.
#: The code of the tripped breaker's line (not a SizingResult warning: the account's state, not the trade's).
BREAKER_TRIPPED = "breaker_tripped"
SEVERE = {
    BREAKER_TRIPPED,
    "stop_beyond_liquidation",
    "leverage_above_tier",
    "below_min_qty",
    "below_min_notional",
    FAR_FROM_MARK,
}
MAX_WARNINGS = 5
_MONEY = re.compile(r"\d[\d,]*\.\d{2}(?!\d|%)")


def masked(text: str, private: bool) -> str:
    """Money amounts in a sentence masked in privacy mode (percentages and other prices stay)."""
    return _MONEY.sub(fmt.MASK, text) if private else text


LIMIT_NAMES = {"risk": "risk", "margin": "margin", "tier": "tier", "max_qty": "max qty"}


def limits_line(r: SizingResult, m: Market) -> Content:
    """The largest quantity each constraint allows (on the amount step), the deciding one highlighted."""
    from perptui.domain.sizing import CONSTRAINTS, floor_to_step

    parts: list[str | tuple[str, str]] = [("Largest size by ", "$text-muted")]
    for name in CONSTRAINTS:
        limit = r.limits.get(name)
        if limit is None:
            continue
        if len(parts) > 1:
            parts.append(("  ·  ", "$text-muted"))
        text = (
            "no limit"
            if limit == float("inf")
            else fmt.qty(floor_to_step(limit, m.amount_step), m.amount_step)
        )
        style = "bold $text-accent" if name == r.binding_constraint else ""
        parts.append((f"{LIMIT_NAMES[name]} {text}", style))
    return Content.assemble(*parts)


class Verdict(Vertical):
    """What decided the size (highlighted), the warnings, each in its colour, then the largest size by each
    constraint; or the error."""

    def compose(self) -> ComposeResult:
        yield Static("", id="size-binding")
        for i in range(MAX_WARNINGS):
            yield Static("", id=f"size-warning-{i}", classes="size-warning", markup=False)
        yield Static("", id="size-limits", markup=False)

    def show(
        self, r: SizingResult, m: Market, private: bool, *, prices: Sequence[str] = (), breaker: str = ""
    ) -> None:
        """``prices``: typed prices far from the mark (``typed_price_warnings``), shown first; ``breaker``:
        the tripped circuit breaker, which refuses the order, shown before them."""
        line = self.query_one("#size-binding", Static)
        word, _, rest = masked(r.binding_text, private).partition(": ")
        line.update(Content.assemble(("Sized by ", "$text-muted"), (word, "bold $text-accent"), f": {rest}"))
        line.set_class(False, "-error")
        line.set_class(False, "-hint")
        self.query_one("#size-limits", Static).update(limits_line(r, m))
        warnings = [*((FAR_FROM_MARK, p) for p in prices), *((w.code, w.message) for w in r.warnings)]
        if breaker:
            warnings.insert(0, (BREAKER_TRIPPED, f"{breaker}; new orders are refused (closing is allowed)"))
        self._warnings(warnings, private)

    def _warnings(self, warnings: Sequence[tuple[str, str]], private: bool = False) -> None:
        """(code, message) pairs, the severe ones first; money in them is masked in privacy mode."""
        shown = sorted(warnings, key=lambda w: w[0] not in SEVERE)
        for i, static in enumerate(self.query(".size-warning").results(Static)):
            w = shown[i] if i < len(shown) else None
            static.display = w is not None
            if w is not None:
                code, message = w
                static.update(f"{'✖' if code in SEVERE else '⚠'} {masked(message, private)}")
                static.set_class(code in SEVERE, "-error")
                static.set_class(code not in SEVERE, "-warning")

    def problem(self, text: str, private: bool, *, hint: bool = False, prices: Sequence[str] = ()) -> None:
        """No result: say why (an error in the error colour, a missing input as a muted hint)."""
        line = self.query_one("#size-binding", Static)
        line.update(masked(text, private))
        self.query_one("#size-limits", Static).update("")
        line.set_class(not hint, "-error")
        line.set_class(hint, "-hint")
        self._warnings([(FAR_FROM_MARK, p) for p in prices])
