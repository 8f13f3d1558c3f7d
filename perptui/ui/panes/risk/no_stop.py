"""Live trading only: a red line per position on the exchange that no stop covers ("NO STOP"), read
back from the exchange (``LiveTrader.book``); hidden while every position has its stop."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class RiskNoStop(Static):
    DEFAULT_CSS = """
    RiskNoStop { height: auto; display: none; }
    RiskNoStop.-shown { display: block; }
    """

    def show(self, naked: list[tuple[str, str]], error: str | None) -> None:
        lines = [
            Content.styled(
                f"! LIVE {symbol}: {described} — O opens the live orders to set one", "bold $text-error"
            )
            for symbol, described in naked
        ]
        if error:
            lines.append(Content.styled(f"could not check the live stops: {error}", "$text-warning"))
        self.update(Content("\n").join(lines))
        self.set_class(bool(lines), "-shown")
