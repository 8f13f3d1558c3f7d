"""The backtest screen's first line: the run shown (strategy, bars, dates, symbols, capital to final
equity) and its state: running, the last run's error (in the error colour), or settings changed since."""

from __future__ import annotations

from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.screens.backtest.series import Shown
from perptui.ui.screens.backtest.setup import Setup, date_text


def headline(shown: Shown, *, private: bool) -> str:
    """``hybrid · 8h bars · 2023-06-01 → 2025-06-01 · 10 symbols · 5,000 → 5,412 (+8.2%)``."""
    result = shown.report.result
    final = float(result.equity[-1])
    start, end = int(result.times[0]), int(result.times[-1])
    change = final / result.capital - 1 if result.capital else None
    return (
        f"{result.strategy} · {result.timeframe} bars · {date_text(start)} → {date_text(end)} · "
        f"{len(result.symbols)} symbols · {fmt.money(result.capital, private=private, decimals=0)} → "
        f"{fmt.money(final, private=private, decimals=0)} ({fmt.pct(change, 1, signed=True)})"
    )


class BacktestHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("", id=id, markup=False)

    def show(
        self, setup: Setup, shown: Shown | None, *, running: bool, error: str | None, private: bool
    ) -> None:
        state = "running…" if running else (error or "")
        text = f"Backtest · {headline(shown, private=private)}" if shown else f"Backtest · {setup.strategy}"
        if shown is not None and shown.setup != setup and not running:
            state = state or "settings changed: r runs again"
        self.update(text + (f" · {state}" if state else ""))
        self.set_class(error is not None, "-error")
