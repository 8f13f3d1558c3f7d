"""One backtest run, in the screen's worker thread: load the history (fetching what the cache lacks, or
the cache alone offline), run the report and build the chart series, saying how far it is through
``progress`` at each step. A newer run cancels this one: ``progress`` then raises ``Stopped`` and the
run ends at that step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import PerptuiError

if TYPE_CHECKING:
    from textual.app import App

    from perptui.ui.context import AppContext
    from perptui.ui.screens.backtest.series import Shown
    from perptui.ui.screens.backtest.setup import Setup

#: ``progress(done, total, label)``: ``done`` of ``total`` steps (None: not known yet), what it is doing.
Progress = Callable[[int, int | None, str], None]


class Stopped(Exception):
    """A newer run replaced this one: stop where it is."""


def run_backtest(ctx: AppContext, app: App[Any], setup: Setup, progress: Progress) -> Shown:
    """The run of ``setup`` (blocking: call in a worker thread)."""
    from perptui.services.backtest import BacktestRequest, run_report
    from perptui.services.backtest_data import load_history
    from perptui.ui.screens.backtest.series import shown_of
    from perptui.ui.screens.backtest.setup import last_closed

    steps: dict[str, int] = {"symbols": 0}

    def history_progress(done: int, total: int, symbol: str) -> None:
        steps["symbols"] = total
        name = symbol.split("/")[0]
        label = "history loaded" if done >= total else f"loading the history: {name} ({done + 1}/{total})"
        progress(done, total + 2, label)

    def run_progress(done: int, total: int, what: str) -> None:
        n = steps["symbols"]
        paths = f", Monte Carlo of {setup.paths:,} paths" if setup.paths else ""
        progress(n + 1, n + 2, f"stress windows{paths}…")

    store = ctx.store()
    source = None if ctx.settings.offline else ctx.source()
    # Never past the last closed bar of the run's timeframe (the span's end was set for another one).
    until = min(setup.until_ms, last_closed(ctx.clock.now_ms(), setup.timeframe))
    span = (setup.since_ms, until)

    def load() -> Any:
        return load_history(
            source, store, ctx.exchange_name, None, setup.timeframe, span, ctx.clock,
            spot=setup.strategy != "trend", progress=history_progress,
        )  # fmt: skip

    # The demo computes in Python: here, off the UI thread; a ccxt source lives on the app's loop.
    on_loop = source is not None and not source.is_demo
    history = app.call_from_thread(load) if on_loop else asyncio.run(load())
    n = steps["symbols"] or len(history.symbols)
    steps["symbols"] = n
    progress(n, n + 2, f"running the {setup.strategy} backtest on {len(history.symbols)} symbols…")
    request = BacktestRequest(
        strategy=setup.strategy,
        capital=setup.capital,
        params=setup.params(),
        start_ms=setup.since_ms,
        end_ms=until,
        monte_carlo=setup.paths or None,
        drawdown_limit=setup.drawdown_limit,
        stress=setup.stress,
        workers=1,
    )
    report = run_report(history, request, run_progress)
    progress(n + 2, n + 2, "drawing…")
    return shown_of(setup, report)


def one_line(error: BaseException | None) -> str:
    """A usage or data error's own message; anything else named by its type (never a traceback)."""
    if isinstance(error, PerptuiError):
        text = str(error)
    else:
        text = f"the backtest failed: {type(error).__name__}: {error}"
    return " ".join(text.split())
