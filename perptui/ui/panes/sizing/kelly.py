"""The Kelly helper of the sizing pane: win rate % and payoff ratio in, the suggested risk per trade out.

Shows as you type: the full Kelly fraction, the share of it used (half Kelly by default) and the cap
(the maximum risk per trade). Enter returns the suggestion as a fraction of equity; Escape cancels.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from perptui.domain.errors import UsageError
from perptui.domain.quantities import PAYOFF_RATIO, WIN_RATE
from perptui.domain.sizing import KellyResult, kelly
from perptui.ui.panes.sizing.model import parse_number
from perptui.ui.widgets.dialogs import FormDialog


def kelly_from_texts(texts: list[str], fraction: float, cap: float | None) -> KellyResult:
    """The Kelly suggestion for (win rate %, payoff ratio) as typed; UsageError for bad input."""
    win_rate = parse_number(texts[0], "win rate", WIN_RATE) / 100
    payoff = parse_number(texts[1], "payoff ratio", PAYOFF_RATIO)
    return kelly(win_rate, payoff, fraction=fraction, cap=cap)


def describe(k: KellyResult, cap: float | None) -> str:
    if k.full <= 0:
        return "full Kelly 0%: no edge at these numbers; Kelly says skip the trade"
    share = "half Kelly" if abs(k.fraction - 0.5) < 1e-9 else f"{k.fraction:g} x Kelly"
    text = f"full Kelly {k.full * 100:.2f}% · {share} {k.fraction * k.full * 100:.2f}%"
    if k.capped and cap is not None:
        text += f" · capped at {cap * 100:g}%"
    return text + f"\nrisk per trade: {k.suggested * 100:.2f}% of equity"


class KellyDialog(FormDialog[float]):
    """Returns the suggested risk as a fraction of equity, or None."""

    DEFAULT_CSS = FormDialog.DEFAULT_CSS.replace("FormDialog", "KellyDialog") + (
        "KellyDialog #kelly-result { color: $text-accent; text-style: bold; height: auto; }"
    )

    def __init__(self, fraction: float, cap: float | None) -> None:
        self.fraction = fraction
        self.cap = cap

        def validate(texts: list[str]) -> float:
            k = kelly_from_texts(texts, fraction, cap)
            if k.suggested <= 0:
                raise UsageError("Kelly suggests 0%: no edge at these numbers, so no risk to use")
            return k.suggested

        super().__init__(
            "Kelly helper",
            [
                ("Win rate % (share of trades that win)", ""),
                ("Payoff ratio (average win / average loss)", ""),
            ],
            validate,
            hint="f* = p - (1 - p) / b, never below 0",
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog--title", markup=False)
            for i, (label, initial) in enumerate(self.fields):
                yield Label(label)
                yield Input(initial, id=f"field-{i}", select_on_focus=True)
            yield Static(self.hint, classes="dialog--hint")
            yield Static("type a win rate and a payoff ratio", id="kelly-result", markup=False)
            yield Static("", id="error", classes="dialog--error", markup=False)
            yield Static("enter: next field, then use as the risk   esc: cancel", classes="dialog--keys")

    def on_input_changed(self, event: Input.Changed) -> None:
        texts = [i.value for i in self.query(Input)]
        try:
            text = describe(kelly_from_texts(texts, self.fraction, self.cap), self.cap)
        except UsageError:
            text = "type a win rate and a payoff ratio"
        self.query_one("#kelly-result", Static).update(text)
        self.query_one("#error", Static).update("")
