"""``Stat``: one labelled figure (``Equity ....... 5,000.00 USDT``). Money figures honour privacy mode.

The value comes first: when the width is short the label gives way (cut with "…"), and only below the
value's own width does the value lose its unit, then its end (with "…" as the cue)."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from perptui.presentation import numbers as fmt

Kind = Literal["money", "pct", "leverage", "text"]
ELLIPSIS = "…"


class Stat(Widget):
    """A label on the left, its value on the right. ``kind="money"`` values are masked when the app's
    ``privacy`` is on; ``signed=True`` colours the value by its sign."""

    DEFAULT_CSS = """
    Stat { height: 1; width: 1fr; }
    Stat > .stat--label { color: $text-muted; }
    Stat > .stat--value { color: $text; text-style: bold; }
    Stat.-positive > .stat--value { color: $text-success; }
    Stat.-negative > .stat--value { color: $text-error; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"stat--label", "stat--value"}

    value: reactive[float | str | None] = reactive(None)
    private: reactive[bool] = reactive(False)

    def __init__(
        self,
        label: str,
        kind: Kind = "money",
        *,
        currency: str = "USDT",
        signed: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.kind: Kind = kind
        self.currency = currency
        self.signed = signed

    def on_mount(self) -> None:
        if self.kind == "money":
            self.watch(self.app, "privacy", self._privacy_changed, init=True)

    def _privacy_changed(self, private: bool) -> None:
        self.private = private

    def watch_value(self, value: float | str | None) -> None:
        if self.signed and not isinstance(value, str):
            for cls in ("-positive", "-negative", "-flat"):
                self.set_class(cls == fmt.sign_class(value), cls)

    @property
    def text(self) -> str:
        """The value as shown (masked in privacy mode)."""
        value = self.value
        if isinstance(value, str):
            return value
        if self.kind == "money":
            return fmt.money(value, self.currency, private=self.private, signed=self.signed)
        if self.kind == "pct":
            return fmt.pct(value, signed=self.signed)
        if self.kind == "leverage":
            return fmt.leverage(value)
        return fmt.UNKNOWN if value is None else str(value)

    def render(self) -> Text:
        label_style = self.get_component_rich_style("stat--label")
        value_style = self.get_component_rich_style("stat--value")
        label, value = fit(self.label, self.text, self.size.width)
        gap = max(0, self.size.width - len(label) - len(value))
        return Text.assemble((label, label_style), " " * gap, (value, value_style), no_wrap=True)


def fit(label: str, value: str, width: int) -> tuple[str, str]:
    """The label and value drawn in ``width`` cells, the value first: the label is cut with "…" when both
    do not fit (one blank between them), and dropped when not even "x…" fits. A value wider than
    ``width`` drops its unit ("6,350.00 USDT" -> "6,350.00"), then is cut at its end with "…"."""
    if len(label) + 1 + len(value) <= width:
        return label, value
    room = width - len(value) - 1
    if room >= 2:
        return label[: room - 1] + ELLIPSIS, value
    if len(value) <= width:
        return "", value
    number = value.rsplit(" ", 1)[0]
    if len(number) <= width:
        return "", number
    return "", number[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""
