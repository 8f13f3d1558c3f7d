"""The sizing pane's keys: symbol picker, side, stop/risk/margin modes, follow the mark, nudges, leaving a
field, copying the ticket and the Kelly helper. Everything here changes the form and asks the pane to
recompute; the pane (``sizing.py``) reads the data and draws."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual import work

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.ui.panes.base import Pane, PaneCommand
from perptui.ui.panes.sizing_edits import StopCycle, convert_risk, cycle_stop, next_in, nudge, stop_text
from perptui.ui.panes.sizing_form import SizingForm
from perptui.ui.panes.sizing_model import (
    RISK_MODES,
    Context,
    FormState,
    field_of,
    is_missing,
    typed_price_warnings,
)

if TYPE_CHECKING:
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market, Side
    from perptui.services.sizing_inputs import MarketSnapshot


class SizingActions(Pane):
    form: FormState
    market: Market | None
    markets: dict[str, Market]
    recent: tuple[str, ...]
    result: SizingResult | None
    error: UsageError | None
    pending_stop: float | None
    stop_cycle: StopCycle | None
    snapshot: MarketSnapshot | None
    built: bool
    after_build: list[Callable[[], object]]

    # provided by the view and the pane
    def context(self) -> Context | None: ...
    def recompute(self) -> None: ...
    def cancel_pending(self, name: str) -> None: ...
    def select_symbol(self, symbol: str) -> None: ...
    def need_atr(self) -> None: ...
    def schedule_save(self, delay: float = 0.5) -> None: ...

    def ready(self, action: Callable[..., object], *args: object) -> bool:
        """True once the pane is built; before (a palette command on a pane never shown), run the action
        when it is."""
        if self.built:
            return True
        self.after_build.append(partial(action, *args))
        return False

    @property
    def form_widget(self) -> SizingForm:
        return self.query_one(SizingForm)

    def set_form(self, **changes: str) -> None:
        """Change the form and the inputs showing it, then recompute and remember."""
        self.form = replace(self.form, **changes)  # type: ignore[arg-type]
        for name, text in changes.items():
            if name in ("entry", "stop", "risk", "leverage", "targets"):
                self.form_widget.set_text(name, text)
        self.recompute()
        self.schedule_save(0)  # a discrete change: remember it now (typing is remembered after a pause)

    # --- symbol -----------------------------------------------------------------------------------

    def action_pick_symbol(self) -> None:
        if not self.ready(self.action_pick_symbol):
            return
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

    # --- toggles ----------------------------------------------------------------------------------

    def action_side(self, side: Side) -> None:
        if not self.ready(self.action_side, side):
            return
        if side != self.form.side:
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
        text = convert_risk(self.form, ctx, mode) if ctx is not None else ""  # type: ignore[arg-type]
        self.set_form(risk_mode=mode, risk=text)

    def action_margin_mode(self) -> None:
        if not self.ready(self.action_margin_mode):
            return
        self.set_form(margin_mode="cross" if self.form.margin_mode == "isolated" else "isolated")

    def action_follow_mark(self) -> None:
        if not self.ready(self.action_follow_mark):
            return
        self.set_form(entry="")
        self.notify("the entry follows the mark", timeout=2)

    # --- fields -----------------------------------------------------------------------------------

    def action_edit(self) -> None:
        """Into the form: the field in error, else the stop (the entry usually follows the mark)."""
        if not self.ready(self.action_edit):
            return
        wrong = field_of(self.error) if self.error is not None and not is_missing(self.error) else None
        self.focus_now(self.form_widget.input(wrong or "stop"))

    def action_leave_field(self) -> None:
        if self.built and self.form_widget.focused_field() is not None:
            self.focus_now()

    def action_nudge(self, direction: int) -> None:
        if not self.built:
            return
        name = self.form_widget.focused_field()
        ctx = self.context()
        if name is None or ctx is None:
            return
        auto = self.result.leverage if self.result is not None else None
        text = nudge(name, self.form, ctx, direction, auto_leverage=auto)
        if text is not None:
            self.set_form(**{name: text})

    # --- ticket and Kelly -------------------------------------------------------------------------

    def action_copy_ticket(self) -> None:
        """The ticket to the terminal's clipboard and to a file. Textual copies with OSC 52, which a
        terminal may ignore without telling: the file is the copy that surely exists, and the message
        says both."""
        if not self.ready(self.action_copy_ticket):
            return
        from perptui.presentation.ticket import ticket_text

        r, m = self.result, self.market
        if r is None or m is None:
            why = str(self.error) if self.error is not None else "nothing is sized yet"
            self.notify(f"no ticket to copy: {why}", severity="warning")
            return
        text = ticket_text(r, m.price_tick, m.amount_step, m.settle)
        self.app.copy_to_clipboard(text)
        qty, entry = fmt.qty(r.quantity, m.amount_step), fmt.price(r.entry, m.price_tick)
        what = f"{r.side} {qty} {m.base} at {entry}"
        self.save_ticket(text, what)

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
        if not self.ready(self.action_send_order):
            return
        r, m = self.result, self.market
        if r is None or m is None:
            why = str(self.error) if self.error is not None else "nothing is sized yet"
            self.notify(f"no order to send: {why}", severity="warning")
        elif not r.tradable:
            self.notify("no order to send: the size is below the market's minimum", severity="warning")
        else:
            self.send_order(r, m)

    @work(exclusive=True, group="sizing-dialog")
    async def send_order(self, result: SizingResult, market: Market) -> None:
        """Rehearse the order on the paper engine (a tripped breaker or a refused rule is said now, with
        no confirmation), show the whole order with what it flags, then, confirmed, place it."""
        import asyncio

        from perptui.ui.panes.sizing_order import confirm_lines, order_request, order_warnings
        from perptui.ui.widgets.dialogs import ConfirmDialog

        ctx = self.context()
        mark = self.snapshot.mark if self.snapshot is not None else None
        request = order_request(result, market, limit=bool(self.form.entry.strip()), mark=mark)
        typed = typed_price_warnings(self.form, ctx) if ctx is not None else []
        engine = await asyncio.to_thread(self.ctx.paper_engine)
        try:
            rehearsed = await asyncio.to_thread(engine.rehearse, lambda: engine.place_order(request))
        except UsageError as exc:
            self.notify(f"paper order refused: {exc}", severity="error", timeout=8)
            return
        title = f"Send this {result.side.upper()} to the paper account?"
        dialog = ConfirmDialog(
            title,
            confirm_lines(result, market, request),
            warnings=order_warnings(result, typed, rehearsed.warnings),
            action="place it",
        )
        if not await self.app.push_screen_wait(dialog):
            self.notify("order not sent", timeout=2)
            return
        try:
            placed = await asyncio.to_thread(engine.place_order, request)
        except UsageError as exc:
            self.notify(f"paper order refused: {exc}", severity="error", timeout=8)
            return
        self.notify(placed.message, title="paper order", timeout=6)
        for warning in placed.warnings:
            self.notify(warning, severity="warning", timeout=8)

    def action_kelly(self) -> None:
        if not self.ready(self.action_kelly):
            return
        self.kelly()

    @work(exclusive=True, group="sizing-dialog")
    async def kelly(self) -> None:
        from perptui.ui.panes.sizing_kelly import KellyDialog

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


def _detail(m: Market) -> str:
    parts = []
    if m.max_leverage:
        parts.append(f"{m.max_leverage:g}x")
    if m.funding_interval_hours:
        parts.append(f"{m.funding_interval_hours:g}h funding")
    return " · ".join(parts)
