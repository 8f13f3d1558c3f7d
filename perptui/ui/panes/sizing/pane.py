"""The sizing pane (key 2): how big a trade may be, what it costs, where it is liquidated.

The form holds texts (``model.FormState``); every change recomputes on the UI thread with the pure
``size_position`` (debounced lightly while typing). Mark and funding are polled in a worker while the pane
is shown (cache when offline or unreachable, marked "cached"), with the account's equity; the entry
follows the mark until the user types one. ``SizingPane`` owns the keys, the state and the workers (whose
results come back as ``messages``); its widgets draw: ``heading``, ``form`` (the Trade card),
``position``, ``verdict``, ``targets``, ``ladder`` and ``more`` (what is out of sight). ``model`` and
``edits`` are the form as data, ``data`` what the workers read, ``memory`` what survives a restart,
``order`` the ticket as a paper order, ``kelly`` the Kelly helper dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import events, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.ui.keymap import binding
from perptui.ui.panes.base import Pane, PaneCommand
from perptui.ui.panes.sizing import data
from perptui.ui.panes.sizing.edits import StopCycle, convert_risk, cycle_stop, next_in, nudge, stop_text
from perptui.ui.panes.sizing.form import FIELDS, SizingForm, stop_line
from perptui.ui.panes.sizing.heading import LOADING, SizingHeading
from perptui.ui.panes.sizing.ladder import SizingLadder
from perptui.ui.panes.sizing.memory import with_recent
from perptui.ui.panes.sizing.messages import (
    AtrFailed,
    AtrRead,
    FormNotSaved,
    PollDone,
    PollFailed,
    Reconnecting,
)
from perptui.ui.panes.sizing.model import (
    RISK_MODES,
    AtrState,
    Context,
    FormState,
    compute,
    context_of,
    field_of,
    is_missing,
    message_of,
    typed_price_warnings,
)
from perptui.ui.panes.sizing.more import MoreCue
from perptui.ui.panes.sizing.position import PositionCard
from perptui.ui.panes.sizing.targets import TargetsCard
from perptui.ui.panes.sizing.verdict import Verdict

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market, Side
    from perptui.services.sizing_inputs import MarketSnapshot
    from perptui.ui.context import AppContext

DEBOUNCE_S = 0.12
#: Terminal sizes: under ``NARROW`` columns the ladder folds away (``L`` brings it back); under ``SHORT``
#: rows the margins go; from ``WIDE`` columns the verdict and the take-profits sit beside the cards.
NARROW, SHORT, WIDE = 100, 30, 190
#: Row -> binding ids whose keys the row shows.
ROW_KEYS = {
    "symbol": ("size_symbol",),
    "side": ("size_long", "size_short"),
    "entry": ("size_follow",),
    "stop": ("size_stop_mode",),
    "risk": ("size_risk_mode",),
    "margin": ("size_margin",),
}

W = TypeVar("W", bound=Widget)


class SizingPane(Pane):
    TITLE = "Size"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("size_symbol", "slash", "pick_symbol", "Symbol", "Pick a market by fuzzy search"),
        binding("size_long", "l", "side('long')", "Long", "Size a long"),
        binding("size_short", "s", "side('short')", "Short", "Size a short"),
        binding("size_edit", "e", "edit", "Edit", "Edit the form, from the stop (tab: next)"),
        binding("size_copy", "c", "copy_ticket", "Copy", "Copy the trade ticket as text"),
        binding("size_kelly", "k", "kelly", "Kelly", "Risk per trade from win rate and payoff", show=False),
        binding("size_order", "o", "send_order", "Order", "Send the ticket to the paper account"),
        # The same key when live trading is on (``allows_action`` shows one of the two).
        binding(
            "size_order_live", "o", "send_live_order", "LIVE order", "Send the ticket to the exchange (LIVE)"
        ),
        binding("size_follow", "f", "follow_mark", "Follow mark", "The entry follows the mark again"),
        binding("size_stop_mode", "x", "stop_mode", "Stop", "Stop: price, % distance or ATR x", show=False),
        binding("size_risk_mode", "a", "risk_mode", "Risk", "Risk as % of equity or an amount", show=False),
        binding("size_margin", "m", "margin_mode", "Margin", "Isolated or cross margin", show=False),
        # Priority (the field keys below): run when the key is read, so the keys typed after it reach the
        # field (or the pane) it moved to, not the field the key was typed in.
        binding(
            "size_up",
            "up",
            "nudge(1)",
            "Up",
            "Field: up a tick, 0.1 or 1; else scroll",
            show=False,
            priority=True,
        ),
        binding(
            "size_down",
            "down",
            "nudge(-1)",
            "Down",
            "Field: down a tick, 0.1 or 1; else scroll",
            show=False,
            priority=True,
        ),
        binding(
            "size_done",
            "escape",
            "leave_field",
            "Done",
            "Leave the field for the keys",
            show=False,
            priority=True,
        ),
        binding("size_next", "tab", "next_field(1)", "Next", "The next field", show=False, priority=True),
        binding(
            "size_previous",
            "shift+tab",
            "next_field(-1)",
            "Previous",
            "The previous field",
            show=False,
            priority=True,
        ),
        binding(
            "size_ladder",
            "L",
            "toggle_ladder",
            "Ladder",
            f"Show or hide the price ladder (folded under {NARROW} columns)",
            show=False,
        ),
    ]

    def __init__(self, ctx: AppContext, *, id: str) -> None:
        super().__init__(ctx, id=id)
        s = ctx.settings.sizing
        self.form = FormState(margin_mode=s.margin_mode, leverage=f"{s.leverage:g}" if s.leverage else "")
        self.setup: data.Setup | None = None  # read by the first poll
        self.markets: dict[str, Market] = {}
        self.recent: tuple[str, ...] = ()
        self.market: Market | None = None
        self.snapshot: MarketSnapshot | None = None
        self.summary: AccountSummary | None = None
        self.notes = {"market": "", "account": ""}  # what went wrong reading them
        self.breaker_tripped = ""  # the paper account's tripped circuit breaker, said before any order
        self.atr: AtrState | None = None
        self.atr_due = 0  # when to read the ATR again (ms)
        self.result: SizingResult | None = None
        self.error: UsageError | None = None
        self.pending_stop: float | None = None  # a stop price to write as an ATR multiple once it is read
        self.stop_cycle: StopCycle | None = None  # a run of `x` presses (edits.cycle_stop)
        self._pending: dict[str, Timer] = {}
        self.built = False
        self.after_build: list[Callable[[], object]] = []
        self.ladder_choice: bool | None = None  # the user's L, until the width crosses NARROW
        #: A symbol asked for (the scanner's Enter) before the markets were read: the first poll shows it,
        #: on the side asked for with it (the one that earns the funding), if any.
        self.wanted: str | None = None
        self.wanted_side: Side | None = None

    def compose(self) -> ComposeResult:
        # The rest is built when the pane is first shown: the first frame does not pay for it.
        yield SizingHeading(id="size-heading")

    async def _build(self) -> None:
        # The form and the result first (side by side, stacked when narrow), then the verdict and the
        # targets (beside the cards when wide); the main column scrolls, the ladder beside it folds.
        cards = Horizontal(
            _card(SizingForm(id="size-form"), "Trade"),
            _card(PositionCard(id="size-position"), "Position"),
            id="size-cards",
        )
        extra = Vertical(
            Verdict(id="size-verdict"), _card(TargetsCard(id="size-targets"), "Take-profits"), id="size-extra"
        )
        main = VerticalScroll(cards, extra, id="size-main", can_focus=False)
        ladder = _card(SizingLadder(id="size-ladder"), "Ladder")
        await self.mount(Horizontal(main, ladder, id="size-body"), MoreCue(id="size-more"))
        self.watch(self.app, "privacy", lambda _: self.recompute(), init=False)
        self.watch(main, "scroll_y", lambda _: self.show_more(), init=False)
        # call_after_refresh's bool goes unread by the watcher
        self.watch(main, "virtual_size", lambda _: self.call_after_refresh(self.show_more), init=False)  # type: ignore[arg-type]  # the bool call_after_refresh returns goes unread
        self.built = True
        self.fit()

    @property
    def form_widget(self) -> SizingForm:
        return self.query_one(SizingForm)

    @property
    def private(self) -> bool:
        return bool(getattr(self.app, "privacy", False))

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``/`` types a slash in a field (Textual keeps its binding active there): hide it meanwhile."""
        if action == "send_order" and self.ctx.read_only:
            return False  # the exchange's own account is shown: paper orders would not appear in it
        if action == "send_live_order":
            return self.ctx.live
        return not (action == "pick_symbol" and self.built and self.form_widget.focused_field() is not None)

    # --- shown and hidden ---------------------------------------------------------------------------

    def activated(self) -> None:
        self.active = True
        self.show_pane_body()

    @work(exclusive=True, group="sizing-build")
    async def show_pane_body(self) -> None:
        if not self.built:
            await self._build()
        if not self.active:
            return
        self.fit()  # the terminal may have been resized while another pane was shown
        # The app applies the user's keymap after the panes mount: read the keys when shown.
        self.form_widget.set_keys({row: " ".join(self._key(b) for b in ids) for row, ids in ROW_KEYS.items()})
        self.recompute()
        super().activated()
        while self.after_build:
            self.after_build.pop(0)()

    def deactivated(self) -> None:
        super().deactivated()
        if "save" in self._pending:
            self._pending.pop("save").stop()
            self._save()

    def ready(self, action: Callable[..., object], *args: object) -> bool:
        """True once the pane is built; before (a palette command on a pane never shown), run the action
        when it is."""
        if self.built:
            return True
        self.after_build.append(partial(action, *args))
        return False

    # --- reading: the chained poll, the ATR -----------------------------------------------------------

    def refresh_data(self) -> None:
        self.poll()

    @work(exclusive=True, group="sizing-poll")
    async def poll(self) -> None:
        """One refresh (the markets and the remembered form on the first); its reading, or why it failed,
        comes back as a message; while its requests are retried, the heading says "reconnecting"."""
        from perptui.services.exchanges.retry import retries_reported_to

        try:
            with retries_reported_to(lambda notice: self.post_message(Reconnecting(notice.text()))):
                polled = await data.poll(self.ctx, self.wanted or self.form.symbol, self.recent, self.setup)
        except Exception as exc:  # whatever failed, the heading says it and the next poll retries
            self.post_message(PollFailed(str(exc)))
        else:
            self.post_message(PollDone(polled))

    def on_sizing_reconnecting(self, message: Reconnecting) -> None:
        self.notes["market"] = f"{message.text}…"
        self.show_heading()

    def on_sizing_poll_done(self, message: PollDone) -> None:
        if self.notes["market"].startswith("reconnecting"):
            self.notes["market"] = ""  # the answer, or the cache with its age, is here
        self._apply(message.polled)
        self.schedule_next()

    def on_sizing_poll_failed(self, message: PollFailed) -> None:
        self.notes["market"] = f"could not refresh: {message.error}"
        self.show_heading()
        self.schedule_next()

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
        self.breaker_tripped = p.breaker_tripped
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

    def need_atr(self) -> None:
        """Read the ATR when the stop is an ATR multiple and this market's is not known yet, or again once
        a newer bar has closed (the last reading stays meanwhile)."""
        m = self.market
        if m is None or self.form.stop_mode != "atr":
            return
        now = self.ctx.clock.now_ms()
        if self.atr is None or self.atr.symbol != m.symbol:
            self.atr = AtrState(m.symbol, None, "")
        elif now < self.atr_due:
            return
        from perptui.domain.timeframes import timeframe_ms

        self.atr_due = now + timeframe_ms(self.ctx.settings.sizing.atr_timeframe)
        self.load_atr(m)

    @work(exclusive=True, group="sizing-atr")
    async def load_atr(self, market: Market) -> None:
        try:
            reading = await data.atr(self.ctx, market)
        except Exception as exc:  # whatever failed, the form says it
            self.post_message(AtrFailed(str(exc)))
        else:
            self.post_message(AtrRead(market.symbol, reading))

    def on_sizing_atr_read(self, message: AtrRead) -> None:
        if self.atr is None:
            return
        reading = message.reading
        self.atr = AtrState(message.symbol, reading, "")
        if reading.last_close_time is not None:  # again once the next bar has closed
            from perptui.domain.timeframes import timeframe_ms

            next_close = reading.last_close_time + timeframe_ms(reading.timeframe)
            self.atr_due = max(next_close, self.ctx.clock.now_ms() + 60_000)
        self.carry_pending_stop()
        self.recompute()

    def on_sizing_atr_failed(self, message: AtrFailed) -> None:
        if self.atr is not None:
            self.atr = AtrState(self.atr.symbol, None, message.error)
            self.recompute()

    # --- remembering ------------------------------------------------------------------------------

    def schedule_save(self, delay: float = 0.5) -> None:
        if self.setup is None:
            return  # the remembered form is not read yet: saving now would overwrite it
        if delay <= 0:
            self.cancel_pending("save")
            self._save()
        else:
            self._restart("save", delay, self._save)

    def _save(self) -> None:
        self.save_form(self.recent, self.form)

    @work(thread=True, group="sizing-save")
    def save_form(self, recent: tuple[str, ...], form: FormState) -> None:
        try:
            data.save(self.ctx, recent, form)
        except Exception as exc:  # the pane works on; the next change saves again
            self.post_message(FormNotSaved(str(exc)))

    def on_sizing_form_not_saved(self, message: FormNotSaved) -> None:
        self.notify(f"could not remember the sizing form: {message.error}", severity="warning")

    # --- layout -------------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """Classes for the pane's size: ``-narrow`` folds the ladder (unless the user's ``L`` says
        otherwise), ``-short`` drops the margins, ``-wide`` puts the verdict beside the cards, ``-stack``
        stacks the cards (the Position first) when a ladder shown leaves no room for both side by side."""
        if not self.size:
            return  # hidden
        width, height = self.screen.size  # the thresholds are in terminal columns and rows
        narrow = width < NARROW
        if narrow != self.has_class("-narrow"):
            self.ladder_choice = None  # the default for the new width
        self.set_class(narrow, "-narrow")
        self.set_class(height < SHORT, "-short")
        self.set_class(width >= WIDE, "-wide")
        ladder = self.ladder_shown
        self.set_class(not ladder, "-no-ladder")
        stack = narrow and ladder
        self.set_class(stack, "-stack")
        if self.built:
            cards, position = self.query_one("#size-cards"), self.query_one(PositionCard)
            if stack and cards.children[0] is not position:
                cards.move_child(position, before=0)
            elif not stack and cards.children[0] is position:
                cards.move_child(position, after=self.form_widget)
        self.call_after_refresh(self.show_more)

    @property
    def ladder_shown(self) -> bool:
        return self.ladder_choice if self.ladder_choice is not None else not self.has_class("-narrow")

    def action_toggle_ladder(self) -> None:
        self.ladder_choice = not self.ladder_shown
        self.fit()

    def show_more(self) -> None:
        if self.built:
            ladder_key = None if self.ladder_shown else self._key("size_ladder")
            self.query_one(MoreCue).show(self.query_one("#size-main", VerticalScroll), ladder_key)

    def _key(self, binding_id: str) -> str:
        """The (first) key of a binding, after the user's keymap."""
        keymap = getattr(self.app, "_keymap", {}) or {}
        default = next(b.key for b in self.BINDINGS if getattr(b, "id", None) == binding_id)  # type: ignore[union-attr]  # only Binding objects have an id
        first = str(keymap.get(binding_id, default)).split(",")[0].strip()
        return {"slash": "/"}.get(first, first)

    # --- the form's texts ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("size-")
        if name in FIELDS:
            event.stop()
            if getattr(self.form, name) != event.value:
                self.form = replace(self.form, **{name: event.value})  # type: ignore[arg-type]  # FIELDS: the str fields
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

    def _restart(self, name: str, delay: float, callback: Callable[[], object]) -> None:
        self.cancel_pending(name)

        def fire() -> None:
            self._pending.pop(name, None)
            callback()

        self._pending[name] = self.set_timer(delay, fire, name=f"sizing {name}")

    def set_form(self, **changes: str) -> None:
        """Change the form and the inputs showing it, then recompute and remember."""
        self.form = replace(self.form, **changes)  # type: ignore[arg-type]  # callers pass form fields by name
        for name, text in changes.items():
            if name in FIELDS:
                self.form_widget.set_text(name, text)
        self.recompute()
        self.schedule_save(0)  # a discrete change: remember it now (typing is remembered after a pause)

    # --- computing and drawing ----------------------------------------------------------------------

    def context(self) -> Context | None:
        return context_of(self.market, self.snapshot, self.summary, self.atr, self.ctx.settings)

    def recompute(self) -> None:
        """Size the form (microseconds: on the UI thread) and show the result or why there is none."""
        self.cancel_pending("recompute")
        ctx = self.context()
        if ctx is None:
            self._show_form(ctx)
            self.query_one(Verdict).problem(self.notes["market"] or LOADING, False, hint=True)
            return
        try:
            result = compute(self.form, ctx)
        except UsageError as exc:  # a SizingError naming the field
            self.result, self.error = None, exc
            self._show_form(ctx)
            self._show_problem(exc, ctx)
        else:
            self.result, self.error = result, None
            self._show_form(ctx)
            self._show_result(result, ctx)

    def _show_form(self, ctx: Context | None) -> None:
        settings = self.ctx.settings
        form = self.form_widget
        form.show(
            self.form,
            ctx,
            summary=self.summary,
            account_note=self.notes["account"],
            account_risk=ctx.account_risk if ctx else settings.risk.risk_pct / 100,
            private=self.private,
        )
        s = settings.sizing
        form.show_stop(
            stop_line(self.form, ctx, self.result, self.atr, f"ATR({s.atr_period}, {s.atr_timeframe})")
        )

    def _show_problem(self, exc: UsageError, ctx: Context) -> None:
        """No result: a missing input as a hint, a rejected one as an error on its field."""
        hint, private = is_missing(exc), self.private
        self.form_widget.mark_error(None if hint else field_of(exc))
        self.query_one(PositionCard).invalidate(private)
        self.query_one(TargetsCard).invalidate(private)
        self.query_one(SizingLadder).no_trade(hint=hint)
        message = message_of(exc, with_field=not hint)
        prices = typed_price_warnings(self.form, ctx)
        self.query_one(Verdict).problem(message, private, hint=hint, prices=prices)

    def _show_result(self, r: SizingResult, ctx: Context) -> None:
        m, private = ctx.market, self.private
        self.form_widget.mark_error(None)
        self.query_one(PositionCard).show(r, m, private)
        self.query_one(TargetsCard).show(r, m, private)
        prices = typed_price_warnings(self.form, ctx)
        self.query_one(Verdict).show(r, m, private, prices=prices, breaker=self.breaker_tripped)
        self.query_one(SizingLadder).show_trade(r, ctx)

    def show_heading(self) -> None:
        heading = self.query_one(SizingHeading)
        heading.show(self.market, self.snapshot, self.notes["market"], self.ctx.clock.now_ms())

    # --- the symbol -----------------------------------------------------------------------------------

    def open_symbol(self, symbol: str, side: Side | None = None) -> None:
        """Size ``symbol`` (the scanner's Enter), on ``side`` if given: now if the markets are known, else
        after the first poll."""
        if self.setup is None:
            self.wanted, self.wanted_side = symbol, side
            return
        self.select_symbol(symbol)
        if side is not None and symbol in self.markets and side != self.form.side:
            self.set_form(side=side)

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

    def action_pick_symbol(self) -> None:
        if self.ready(self.action_pick_symbol):
            self.pick_symbol()

    @work(exclusive=True, group="sizing-dialog")
    async def pick_symbol(self) -> None:
        from perptui.ui.widgets.symbol_picker import SymbolChoice, SymbolPicker

        if not self.markets:
            self.notify("the markets are not loaded yet", severity="warning")
            return
        choices = [
            SymbolChoice(m.symbol, m.base, _detail(m))
            for m in sorted(self.markets.values(), key=lambda m: m.symbol)
        ]
        picked = await self.app.push_screen_wait(SymbolPicker(choices, self.recent, self.form.symbol))
        if picked:
            self.select_symbol(picked)

    # --- toggles ------------------------------------------------------------------------------------

    def action_side(self, side: Side) -> None:
        if self.ready(self.action_side, side) and side != self.form.side:
            self.set_form(side=side)

    def action_stop_mode(self) -> None:
        """The next stop mode, the stop price unchanged (see ``cycle_stop``)."""
        if not self.ready(self.action_stop_mode):
            return
        mode, text, self.stop_cycle = cycle_stop(self.form, self.context(), self.stop_cycle)
        # Into ATR before the ATR is read: the multiple is written once it is (carry_pending_stop).
        cycle = self.stop_cycle
        self.pending_stop = cycle.stop if cycle is not None and mode == "atr" and not text else None
        self.set_form(stop_mode=mode, stop=text)
        self.need_atr()

    def carry_pending_stop(self) -> None:
        """After switching to ATR stops, write the previous stop price as a multiple once the ATR is in."""
        ctx, stop = self.context(), self.pending_stop
        self.pending_stop = None
        if ctx is None or stop is None or ctx.atr is None or self.form.stop.strip():
            return
        text = stop_text(self.form, ctx, "atr", stop)
        if self.stop_cycle is not None and self.stop_cycle.written == ("atr", ""):
            self.stop_cycle = replace(self.stop_cycle, written=("atr", text))
        self.set_form(stop=text)

    def action_risk_mode(self) -> None:
        if not self.ready(self.action_risk_mode):
            return
        ctx = self.context()
        mode = next_in(RISK_MODES, self.form.risk_mode)
        text = convert_risk(self.form, ctx, mode) if ctx is not None else ""
        self.set_form(risk_mode=mode, risk=text)

    def action_margin_mode(self) -> None:
        if self.ready(self.action_margin_mode):
            self.set_form(margin_mode="cross" if self.form.margin_mode == "isolated" else "isolated")

    def action_follow_mark(self) -> None:
        if self.ready(self.action_follow_mark):
            self.set_form(entry="")
            self.notify("the entry follows the mark", timeout=2)

    # --- fields -------------------------------------------------------------------------------------

    def action_edit(self) -> None:
        """Into the form: the field in error, else the stop (the entry usually follows the mark)."""
        if self.ready(self.action_edit):
            wrong = field_of(self.error) if self.error is not None and not is_missing(self.error) else None
            self.focus_now(self.form_widget.input(wrong or "stop"))

    def action_next_field(self, direction: int) -> None:
        """Tab and shift+Tab, at once: Textual's own Tab bubbles up from the field after the keys already
        queued for it, so a fast "3 tab 3" typed both threes into the first field."""
        if direction > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

    def action_leave_field(self) -> None:
        """Escape in a field gives the keys back to the pane; elsewhere it is not the pane's key."""
        if not (self.built and self.form_widget.focused_field() is not None):
            raise SkipAction()
        self.focus_now()

    def action_nudge(self, direction: int) -> None:
        """↑↓ in a field nudge it; on the pane they scroll the main column (what is below the fold); on
        another widget of the pane they are that widget's keys."""
        if not self.built:
            return
        name = self.form_widget.focused_field()
        if name is None:
            main = self.query_one("#size-main", VerticalScroll)
            if self.screen.focused not in (self, main):
                raise SkipAction()
            main.scroll_relative(y=-direction, animate=False)
            return
        ctx = self.context()
        if ctx is None:
            return
        auto = self.result.leverage if self.result is not None else None
        text = nudge(name, self.form, ctx, direction, auto_leverage=auto)
        if text is not None:
            self.set_form(**{name: text})

    # --- ticket, order and Kelly --------------------------------------------------------------------

    def action_copy_ticket(self) -> None:
        """The ticket to the terminal's clipboard and to a file. Textual copies with OSC 52, which a
        terminal may ignore without telling: the file is the copy that surely exists, and the message
        says both."""
        if not self.ready(self.action_copy_ticket):
            return
        from perptui.presentation.ticket import ticket_text

        sized = self._sized("ticket to copy")
        if sized is None:
            return
        r, m = sized
        text = ticket_text(r, m.price_tick, m.amount_step, m.settle, m.contract_size)
        self.app.copy_to_clipboard(text)
        qty, entry = fmt.qty(r.quantity, m.amount_step), fmt.price(r.entry, m.price_tick)
        self.save_ticket(text, f"{r.side} {qty} {m.base} at {entry}")

    @work(thread=True, exclusive=True, group="sizing-ticket", exit_on_error=False)
    def save_ticket(self, text: str, what: str) -> None:
        from perptui.services.tickets import save_ticket

        sent = f"ticket ({what}) sent to the terminal's clipboard (OSC 52)"
        try:
            path = save_ticket(text)
        except OSError as exc:
            message = f"{sent}; if your terminal ignores it, nothing holds it: could not save it ({exc})"
            self.app.call_from_thread(self.notify, message, severity="warning", timeout=8)
            return
        message = f"{sent}; if your terminal ignores it, the ticket is also saved at {path}"
        self.app.call_from_thread(self.notify, message, timeout=8)

    def action_send_order(self) -> None:
        self._send(live=False)

    def action_send_live_order(self) -> None:
        self._send(live=True)

    def _send(self, *, live: bool) -> None:
        """The ticket to the paper account or, ``live``, to the exchange: once it is sized and tradable."""
        again = self.action_send_live_order if live else self.action_send_order
        if not self.ready(again):
            return
        sized = self._sized("order to send")
        if sized is None:
            return
        r, m = sized
        if not r.tradable:
            self.notify("no order to send: the size is below the market's minimum", severity="warning")
        else:
            self.send_order(r, m, live=live)

    def _sized(self, what: str) -> tuple[SizingResult, Market] | None:
        """The result and its market; None, after saying why there is no ``what``, when there is none."""
        r, m = self.result, self.market
        if r is None or m is None:
            why = str(self.error) if self.error is not None else "nothing is sized yet"
            self.notify(f"no {what}: {why}", severity="warning")
            return None
        return r, m

    @work(exclusive=True, group="sizing-dialog")
    async def send_order(self, result: SizingResult, market: Market, live: bool = False) -> None:
        """Confirm and place the order: on the paper account (``order_flow``, rehearsed first) or, with
        ``live``, on the exchange (``live_flow``); a market order when the entry follows the mark, a limit
        at a typed entry."""
        from perptui.ui.panes.sizing.live_flow import send_live_order
        from perptui.ui.panes.sizing.order import order_request
        from perptui.ui.panes.sizing.order_flow import send_paper_order

        ctx = self.context()
        mark = self.snapshot.mark if self.snapshot is not None else None
        request = order_request(result, market, limit=bool(self.form.entry.strip()), mark=mark)
        typed = typed_price_warnings(self.form, ctx) if ctx is not None else []
        if live:
            await send_live_order(self.app, self.ctx, result, market, request, typed)
        else:
            await send_paper_order(self.app, self.ctx, result, market, request, typed)

    def action_kelly(self) -> None:
        if self.ready(self.action_kelly):
            self.kelly()

    @work(exclusive=True, group="sizing-dialog")
    async def kelly(self) -> None:
        from perptui.ui.panes.sizing.kelly import KellyDialog

        settings = self.ctx.settings
        cap = settings.risk.max_risk_pct / 100
        fraction = await self.app.push_screen_wait(KellyDialog(settings.sizing.kelly_fraction, cap))
        if fraction:
            text = f"{fraction * 100:.2f}".rstrip("0").rstrip(".")
            self.set_form(risk_mode="pct", risk=text)
            self.notify(f"risk per trade {text}% (Kelly)", timeout=3)

    def commands(self) -> list[PaneCommand]:
        return [
            PaneCommand(
                "Size: pick a market", "fuzzy search over the perps (key /)", self.action_pick_symbol
            ),
            PaneCommand("Size: long", "size a long (key l)", partial(self.action_side, "long")),
            PaneCommand("Size: short", "size a short (key s)", partial(self.action_side, "short")),
            PaneCommand(
                "Size: copy the trade ticket",
                "as text, to the clipboard and a file (key c)",
                self.action_copy_ticket,
            ),
            PaneCommand(
                "Size: Kelly helper", "risk per trade from win rate and payoff (key k)", self.action_kelly
            ),
            PaneCommand(
                "Size: entry follows the mark", "forget the typed entry (key f)", self.action_follow_mark
            ),
            PaneCommand(
                "Size: switch the stop mode",
                "price, % distance or ATR multiple (key x)",
                self.action_stop_mode,
            ),
            PaneCommand(
                "Size: switch the risk unit", "% of equity or an amount (key a)", self.action_risk_mode
            ),
            PaneCommand("Size: switch the margin mode", "isolated or cross (key m)", self.action_margin_mode),
        ]


def _card(widget: W, title: str) -> W:
    """``widget`` as a bordered card titled ``title``."""
    widget.add_class("card")
    widget.border_title = title
    return widget


def _detail(m: Market) -> str:
    """The symbol picker's detail of a market: its maximum leverage and funding interval."""
    parts = []
    if m.max_leverage:
        parts.append(f"{m.max_leverage:g}x")
    if m.funding_interval_hours:
        parts.append(f"{m.funding_interval_hours:g}h funding")
    return " · ".join(parts)
