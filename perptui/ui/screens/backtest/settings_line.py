"""The run's settings on one line, each with the key that changes it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.screens.backtest.setup import Setup


def settings_line(s: Setup, private: bool) -> Content:
    def part(key: str, label: str, value: str) -> Content:
        return Content.assemble((key, "bold $text-accent"), f" {label} ", (value, "bold $text"))

    paths = f"{s.paths:,} paths" if s.paths else "off"
    parts = [
        part("s", "strategy", s.strategy),
        part("d", "dates", s.span_text),
        part("f", "bars", s.timeframe),
        part("c", "capital", fmt.money(s.capital, private=private, decimals=0)),
        part("m", "Monte Carlo", paths),
        part("w", "window", s.stress[0] if s.stress else "—"),
    ]
    return Content("  ").join(parts)


class SettingsLine(Static):
    def show(self, setup: Setup, *, private: bool) -> None:
        self.update(settings_line(setup, private))
