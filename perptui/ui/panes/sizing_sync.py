"""What the sizing pane reads and remembers, on its workers: the chained poll (markets and the
remembered form on the first, then the account and the market's mark and funding), the ATR, and saving
the form and recent symbols. Results come back to ``on_worker_state_changed`` on the UI thread."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerState

from perptui.ui.panes import sizing_data as data
from perptui.ui.panes.sizing_form import FIELDS
from perptui.ui.panes.sizing_memory import with_recent
from perptui.ui.panes.sizing_view import SizingView

if TYPE_CHECKING:
    from perptui.domain.types import Market, Side
    from perptui.services.sizing_inputs import AtrReading


class SizingSync(SizingView):
    setup: data.Setup | None
    atr_due: int

    def _restart(self, name: str, delay: float, callback) -> None: ...  # type: ignore[no-untyped-def]

    #: A symbol asked for (the scanner's Enter) before the markets were read: the first poll shows it.
    wanted: str | None = None
    #: The side asked for with it (the one that earns the funding), if any.
    wanted_side: Side | None = None

    def refresh_data(self) -> None:
        self.poll()

    def open_symbol(self, symbol: str, side: Side | None = None) -> None:
        """Size ``symbol`` (the scanner's Enter), on ``side`` if given: now if the markets are known, else
        after the first poll."""
        if self.setup is None:
            self.wanted, self.wanted_side = symbol, side
            return
        self.select_symbol(symbol)
        if side is not None and symbol in self.markets and side != self.form.side:
            self.set_form(side=side)

    @work(exclusive=True, group="sizing-poll", exit_on_error=False, name="sizing-poll")
    async def poll(self) -> data.Polled:
        return await data.poll(self.ctx, self.wanted or self.form.symbol, self.recent, self.setup)

    def need_atr(self) -> None:
        """Read the ATR when the stop is an ATR multiple and this market's is not known yet, or again once
        a newer bar has closed (the last reading stays meanwhile)."""
        m = self.market
        if m is None or self.form.stop_mode != "atr":
            return
        now = self.ctx.clock.now_ms()
        if self.atr is None or self.atr[0] != m.symbol:
            self.atr = (m.symbol, None, "")
        elif now < self.atr_due:
            return
        from perptui.domain.timeframes import timeframe_ms

        self.atr_due = now + timeframe_ms(self.ctx.settings.sizing.atr_timeframe)
        self.load_atr(m)

    @work(exclusive=True, group="sizing-atr", exit_on_error=False, name="sizing-atr")
    async def load_atr(self, market: Market) -> tuple[str, AtrReading]:
        return market.symbol, await data.atr(self.ctx, market)

    def schedule_save(self, delay: float = 0.5) -> None:
        if self.setup is None:
            return  # the remembered form is not read yet: saving now would overwrite it
        if delay <= 0:
            self.cancel_pending("save")
            self._save()
        else:
            self._restart("save", delay, self._save)

    def _save(self) -> None:
        recent, form = self.recent, self.form
        self.run_worker(
            lambda: data.save(self.ctx, recent, form),
            thread=True,
            group="sizing-save",
            name="sizing-save",
            exit_on_error=False,
        )

    def deactivated(self) -> None:
        super().deactivated()
        if "save" in self._pending:
            self._pending.pop("save").stop()
            self._save()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if worker.name == "sizing-poll":
            if state is WorkerState.SUCCESS:
                self._apply(worker.result)
            else:
                self.notes["market"] = f"could not refresh: {worker.error}"
                self.show_heading()
            self.schedule_next()
        elif worker.name == "sizing-atr" and self.atr is not None:
            if state is WorkerState.SUCCESS:
                symbol, reading = worker.result
                self.atr = (symbol, reading, "")
                if reading.last_close_time is not None:  # again once the next bar has closed
                    from perptui.domain.timeframes import timeframe_ms

                    next_close = reading.last_close_time + timeframe_ms(reading.timeframe)
                    self.atr_due = max(next_close, self.ctx.clock.now_ms() + 60_000)
                self.carry_pending_stop()
            else:
                self.atr = (self.atr[0], None, str(worker.error))
            self.recompute()
        elif worker.name == "sizing-save" and state is WorkerState.ERROR:
            self.notify(f"could not remember the sizing form: {worker.error}", severity="warning")

    def _apply(self, p: data.Polled) -> None:
        if p.setup is not None and self.setup is None:
            self.setup = p.setup
            self.markets = p.setup.markets
            self.recent = p.setup.remembered.recent
            remembered = p.setup.remembered.form
            if remembered is not None:
                self.form = remembered
                for name in FIELDS:
                    self.form_widget.set_text(name, getattr(remembered, name))
        if p.symbol and p.symbol != self.form.symbol and self.form.symbol not in self.markets:
            self.form = replace(
                self.form, symbol=p.symbol, stop="" if self.form.stop_mode == "price" else self.form.stop
            )
            self.form_widget.set_text("stop", self.form.stop)
        self.market = self.markets.get(self.form.symbol)
        if self.market is not None and self.form.symbol not in self.recent:
            self.recent = with_recent(self.recent, self.form.symbol)
        if p.summary is not None or p.account_error:
            self.summary = p.summary or self.summary
        self.notes["account"] = p.account_error
        if p.snapshot is not None and p.snapshot.market.symbol == self.form.symbol:
            self.snapshot = p.snapshot
            self.notes["market"] = p.snapshot_error
        elif self.setup is not None and not self.markets:
            self.notes["market"] = self.setup.markets_error or "the cache holds no markets: go online once"
        self.show_heading()
        self.need_atr()
        self.recompute()
        if self.wanted is not None and self.setup is not None:
            wanted, side = self.wanted, self.wanted_side
            self.wanted = self.wanted_side = None
            self.open_symbol(wanted, side)

    def select_symbol(self, symbol: str) -> None:
        if symbol not in self.markets:
            return
        self.recent = with_recent(self.recent, symbol)
        if symbol != self.form.symbol:
            self.snapshot = None
            self.pending_stop = None
            stop = "" if self.form.stop_mode == "price" else self.form.stop
            self.market = self.markets[symbol]
            self.form = replace(self.form, symbol=symbol)
            self.set_form(entry="", stop=stop)  # recomputes and remembers
            self.need_atr()
            self.refresh_data()
        else:
            self.schedule_save(0)
