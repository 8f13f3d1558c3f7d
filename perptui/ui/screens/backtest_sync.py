"""The backtest screen's worker: load the history (fetching what the cache lacks, or the cache alone
offline), run the report and build the chart series, all in one thread so the UI never waits. A newer
run cancels the older one: its progress callback sees the cancellation and stops it at the next step,
and whatever it posts after that is ignored. The result comes back to ``on_worker_state_changed``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from perptui.domain.errors import PerptuiError

if TYPE_CHECKING:
    from perptui.ui.context import AppContext
    from perptui.ui.screens.backtest_view import Setup, Shown

WORKER = "backtest-run"


class _Stopped(Exception):
    """A newer run replaced this one: stop where it is."""


class Progressed(Message):
    """How far a run is: ``done`` of ``total`` steps (None: not known yet) and what it is doing."""

    def __init__(self, worker: Worker[Any], done: int, total: int | None, label: str) -> None:
        super().__init__()
        self.worker, self.done, self.total, self.label = worker, done, total, label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Progressed) and message.worker is self.worker


class BacktestSync(Screen[None]):
    def __init__(self, ctx: AppContext, setup: Setup) -> None:
        super().__init__()
        self.ctx = ctx
        self.setup = setup
        self.shown: Shown | None = None
        self.running = False
        self.error: str | None = None
        self._worker: Worker[Shown] | None = None

    def redraw(self) -> None: ...

    def show_progress(self, done: int, total: int | None, label: str) -> None: ...

    def run(self) -> None:
        """Start a run of the current setup (replacing a running one)."""
        self.running = True
        self.error = None
        self.show_progress(0, None, "loading the history…")
        self.redraw()
        self._worker = self.run_worker_thread(self.setup)

    @work(thread=True, exclusive=True, exit_on_error=False, group="backtest", name=WORKER)
    def run_worker_thread(self, setup: Setup) -> Shown:
        from perptui.services.backtest import BacktestRequest, run_report
        from perptui.services.backtest_data import load_history
        from perptui.ui.screens.backtest_view import last_closed, shown_of

        worker = get_current_worker()
        ctx = self.ctx
        steps: dict[str, int] = {"symbols": 0}

        def post(done: int, total: int | None, label: str) -> None:
            if worker.is_cancelled:
                raise _Stopped
            self.post_message(Progressed(worker, done, total, label))

        def history_progress(done: int, total: int, symbol: str) -> None:
            steps["symbols"] = total
            name = symbol.split("/")[0]
            label = "history loaded" if done >= total else f"loading the history: {name} ({done + 1}/{total})"
            post(done, total + 2, label)

        def run_progress(done: int, total: int, what: str) -> None:
            n = steps["symbols"]
            paths = f", Monte Carlo of {setup.paths:,} paths" if setup.paths else ""
            post(n + 1, n + 2, f"stress windows{paths}…")

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
        history = self.app.call_from_thread(load) if on_loop else asyncio.run(load())
        n = steps["symbols"] or len(history.symbols)
        steps["symbols"] = n
        post(n, n + 2, f"running the {setup.strategy} backtest on {len(history.symbols)} symbols…")
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
        post(n + 2, n + 2, "drawing…")
        return shown_of(setup, report)

    def on_progressed(self, message: Progressed) -> None:
        if message.worker is self._worker and self.running:
            self.show_progress(message.done, message.total, message.label)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.running = False
        if event.state is WorkerState.SUCCESS:
            self.shown = event.worker.result
            self.error = None
        else:
            self.error = one_line(event.worker.error)
            self.notify(self.error, title="backtest", severity="error", timeout=8)
        self.redraw()


def one_line(error: BaseException | None) -> str:
    """A usage or data error's own message; anything else named by its type (never a traceback)."""
    if isinstance(error, PerptuiError):
        text = str(error)
    else:
        text = f"the backtest failed: {type(error).__name__}: {error}"
    return " ".join(text.split())
