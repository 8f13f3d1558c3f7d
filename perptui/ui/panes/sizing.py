"""The sizing pane (key 2): how big a trade may be, what it costs, where it is liquidated.

The form (``sizing_form``) holds texts; every change recomputes on the UI thread with the pure
``size_position`` (debounced lightly while typing). Mark and funding are polled in a worker while the pane
is shown (cache when offline or unreachable, marked "cached"), with the account's equity; the entry
follows the mark until the user types one. Keys are in ``sizing_actions``; what is read, in
``sizing_data``; the recent symbols and the last form survive restarts (``sizing_memory``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from perptui.ui.keymap import binding
from perptui.ui.panes import sizing_data as data
from perptui.ui.panes.sizing_form import FIELDS, SizingForm
from perptui.ui.panes.sizing_memory import with_recent
from perptui.ui.panes.sizing_model import FormState
from perptui.ui.panes.sizing_results import PositionCard, TargetsCard, Verdict
from perptui.ui.panes.sizing_view import SizingView
from perptui.ui.widgets.price_ladder import PriceLadder

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.errors import UsageError
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market
    from perptui.services.sizing_inputs import AtrReading, MarketSnapshot

DEBOUNCE_S = 0.12
#: Row -> binding ids whose keys the row shows.
ROW_KEYS = {
    "symbol": ("size_symbol",),
    "side": ("size_long", "size_short"),
    "entry": ("size_follow",),
    "stop": ("size_stop_mode",),
    "risk": ("size_risk_mode",),
    "margin": ("size_margin",),
}


class SizingPane(SizingView):
    TITLE = "Size"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("size_symbol", "slash", "pick_symbol", "Symbol", "Pick a market by fuzzy search"),
        binding("size_long", "l", "side('long')", "Long", "Size a long"),
        binding("size_short", "s", "side('short')", "Short", "Size a short"),
        binding("size_edit", "e", "edit", "Edit", "Edit the form, from the stop (tab: next)"),
        binding("size_copy", "c", "copy_ticket", "Copy", "Copy the trade ticket as text"),
        binding("size_kelly", "k", "kelly", "Kelly", "Risk per trade from win rate and payoff"),
        binding("size_follow", "f", "follow_mark", "Follow mark", "The entry follows the mark again"),
        binding("size_stop_mode", "x", "stop_mode", "Stop", "Stop: price, % distance or ATR x", show=False),
        binding("size_risk_mode", "a", "risk_mode", "Risk", "Risk as % of equity or an amount", show=False),
        binding("size_margin", "m", "margin_mode", "Margin", "Isolated or cross margin", show=False),
        binding("size_up", "up", "nudge(1)", "Up", "Field: up a tick, 0.1 or 1", show=False),
        binding("size_down", "down", "nudge(-1)", "Down", "Field: down a tick, 0.1 or 1", show=False),
        binding("size_done", "escape", "leave_field", "Done", "Leave the field for the keys", show=False),
    ]

    def __init__(self, ctx, *, id: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, id=id)
        s = ctx.settings.sizing
        self.form = FormState(margin_mode=s.margin_mode, leverage=f"{s.leverage:g}" if s.leverage else "")
        self.setup: data.Setup | None = None
        self.markets: dict[str, Market] = {}
        self.recent: tuple[str, ...] = ()
        self.market: Market | None = None
        self.snapshot: MarketSnapshot | None = None
        self.summary: AccountSummary | None = None
        self.notes = {"market": "", "account": ""}
        self.atr: tuple[str, AtrReading | None, str] | None = None  # symbol, reading, error
        self.atr_due = 0  # when to read the ATR again (ms)
        self.result: SizingResult | None = None
        self.error: UsageError | None = None
        self.pending_stop: float | None = None
        self._pending: dict[str, Timer] = {}
        self.built = False
        self.after_build: list[Callable[[], object]] = []

    def compose(self) -> ComposeResult:
        # The rest is built when the pane is first shown: the first frame does not pay for it.
        yield Static("loading the markets…", id="size-heading")

    async def _build(self) -> None:
        cards = Horizontal(
            _card(SizingForm(id="size-form"), "Trade"),
            _card(PositionCard(id="size-position"), "Position"),
            id="size-cards",
        )
        main = Vertical(
            cards,
            _card(TargetsCard(id="size-targets"), "Take-profits"),
            Verdict(id="size-verdict"),
            id="size-main",
        )
        await self.mount(Horizontal(main, _card(PriceLadder(id="size-ladder"), "Ladder"), id="size-body"))
        self.watch(self.app, "privacy", lambda _: self.recompute(), init=False)
        self.built = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``/`` types a slash in a field (Textual keeps its binding active there): hide it meanwhile."""
        return not (action == "pick_symbol" and self.built and self.form_widget.focused_field() is not None)

    def activated(self) -> None:
        self.active = True
        self.show_pane_body()

    @work(exclusive=True, group="sizing-build")
    async def show_pane_body(self) -> None:
        if not self.built:
            await self._build()
        if not self.active:
            return
        # The app applies the user's keymap after the panes mount: read the keys when shown.
        self.form_widget.set_keys({row: " ".join(self._key(b) for b in ids) for row, ids in ROW_KEYS.items()})
        self.recompute()
        super().activated()
        while self.after_build:
            self.after_build.pop(0)()

    def _key(self, binding_id: str) -> str:
        keymap = getattr(self.app, "_keymap", {}) or {}
        default = next(b.key for b in self.BINDINGS if getattr(b, "id", None) == binding_id)  # type: ignore[union-attr]
        first = str(keymap.get(binding_id, default)).split(",")[0].strip()
        return {"slash": "/"}.get(first, first)

    # --- data -------------------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.poll()

    @work(exclusive=True, group="sizing-poll", exit_on_error=False, name="sizing-poll")
    async def poll(self) -> data.Polled:
        return await data.poll(self.ctx, self.form.symbol, self.recent, self.setup)

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

    # --- computing and drawing ----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("size-")
        if name in FIELDS:
            event.stop()
            if getattr(self.form, name) != event.value:
                self.form = replace(self.form, **{name: event.value})
                self._restart("recompute", DEBOUNCE_S, self.recompute)
                self.schedule_save()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if (event.input.id or "").removeprefix("size-") in FIELDS:
            event.stop()
            self.recompute()
            self.schedule_save(0)

    def cancel_pending(self, name: str) -> None:
        if name in self._pending:
            self._pending.pop(name).stop()

    def _restart(self, name: str, delay: float, callback) -> None:  # type: ignore[no-untyped-def]
        self.cancel_pending(name)

        def fire() -> None:
            self._pending.pop(name, None)
            callback()

        self._pending[name] = self.set_timer(delay, fire, name=f"sizing {name}")


def _card(widget, title: str):  # type: ignore[no-untyped-def]
    widget.add_class("card")
    widget.border_title = title
    return widget
