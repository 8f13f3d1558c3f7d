"""The sizing pane (key 2): how big a trade may be, what it costs, where it is liquidated.

The form (``sizing_form``) holds texts; every change recomputes on the UI thread with the pure
``size_position`` (debounced lightly while typing). Mark and funding are polled in a worker while the pane
is shown (cache when offline or unreachable, marked "cached"), with the account's equity; the entry
follows the mark until the user types one. The modules: ``sizing_actions`` (keys), ``sizing_view``
(drawing), ``sizing_sync`` and ``sizing_data`` (workers: what is read), ``sizing_model`` and
``sizing_edits`` (the form as data), ``sizing_memory`` (what survives a restart: recent symbols, the form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Input, Static

from perptui.ui.keymap import binding
from perptui.ui.panes import sizing_data as data
from perptui.ui.panes.sizing_edits import StopCycle
from perptui.ui.panes.sizing_form import FIELDS, SizingForm
from perptui.ui.panes.sizing_model import FormState
from perptui.ui.panes.sizing_results import PositionCard, TargetsCard, Verdict
from perptui.ui.panes.sizing_sync import SizingSync
from perptui.ui.widgets.price_ladder import PriceLadder

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.errors import UsageError
    from perptui.domain.sizing import SizingResult
    from perptui.domain.types import Market
    from perptui.services.sizing_inputs import AtrReading, MarketSnapshot

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


class SizingPane(SizingSync):
    TITLE = "Size"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("size_symbol", "slash", "pick_symbol", "Symbol", "Pick a market by fuzzy search"),
        binding("size_long", "l", "side('long')", "Long", "Size a long"),
        binding("size_short", "s", "side('short')", "Short", "Size a short"),
        binding("size_edit", "e", "edit", "Edit", "Edit the form, from the stop (tab: next)"),
        binding("size_copy", "c", "copy_ticket", "Copy", "Copy the trade ticket as text"),
        binding("size_kelly", "k", "kelly", "Kelly", "Risk per trade from win rate and payoff", show=False),
        binding("size_order", "o", "send_order", "Order", "Send the ticket to the paper account"),
        binding("size_follow", "f", "follow_mark", "Follow mark", "The entry follows the mark again"),
        binding("size_stop_mode", "x", "stop_mode", "Stop", "Stop: price, % distance or ATR x", show=False),
        binding("size_risk_mode", "a", "risk_mode", "Risk", "Risk as % of equity or an amount", show=False),
        binding("size_margin", "m", "margin_mode", "Margin", "Isolated or cross margin", show=False),
        binding("size_up", "up", "nudge(1)", "Up", "Field: up a tick, 0.1 or 1; else scroll", show=False),
        binding(
            "size_down", "down", "nudge(-1)", "Down", "Field: down a tick, 0.1 or 1; else scroll", show=False
        ),
        binding("size_done", "escape", "leave_field", "Done", "Leave the field for the keys", show=False),
        binding(
            "size_ladder",
            "L",
            "toggle_ladder",
            "Ladder",
            f"Show or hide the price ladder (folded under {NARROW} columns)",
            show=False,
        ),
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
        self.stop_cycle: StopCycle | None = None  # a run of `x` presses (sizing_edits.cycle_stop)
        self._pending: dict[str, Timer] = {}
        self.built = False
        self.after_build: list[Callable[[], object]] = []
        self.ladder_choice: bool | None = None  # the user's L, until the width crosses NARROW

    def compose(self) -> ComposeResult:
        # The rest is built when the pane is first shown: the first frame does not pay for it.
        yield Static("loading the markets…", id="size-heading", markup=False)

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
        ladder = _card(PriceLadder(id="size-ladder"), "Ladder")
        await self.mount(Horizontal(main, ladder, id="size-body"), Static("", id="size-more", markup=False))
        self.watch(self.app, "privacy", lambda _: self.recompute(), init=False)
        self.watch(main, "scroll_y", lambda _: self.show_more(), init=False)
        self.watch(main, "virtual_size", lambda _: self.call_after_refresh(self.show_more), init=False)
        self.built = True
        self.fit()

    def allows_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``/`` types a slash in a field (Textual keeps its binding active there): hide it meanwhile."""
        if action == "send_order" and self.ctx.read_only:
            return False  # the exchange's own account is shown: paper orders would not appear in it
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
        self.fit()  # the terminal may have been resized while another pane was shown
        # The app applies the user's keymap after the panes mount: read the keys when shown.
        self.form_widget.set_keys({row: " ".join(self._key(b) for b in ids) for row, ids in ROW_KEYS.items()})
        self.recompute()
        super().activated()
        while self.after_build:
            self.after_build.pop(0)()

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
        """One line under the pane when something is out of sight: more below (or above) the main column,
        the ladder folded. The content's height does not depend on this line, so showing it cannot hide it."""
        if not self.built:
            return
        main = self.query_one("#size-main", VerticalScroll)
        bottom = max((w.virtual_region_with_margin.bottom for w in main.children if w.display), default=0)
        parts = []
        if bottom > main.scroll_y + main.scrollable_content_region.height:
            parts.append("▼ more below: ↑↓ or the wheel scroll")
        elif main.scroll_y > 0:
            parts.append("▲ more above: ↑↓ or the wheel scroll")
        if not self.ladder_shown:
            parts.append(f"{self._key('size_ladder')} shows the ladder")
        more = self.query_one("#size-more", Static)
        more.update(" · ".join(parts))
        more.display = bool(parts)

    def action_nudge(self, direction: int) -> None:
        """↑↓ in a field nudge it; outside one they scroll the main column (what is below the fold)."""
        if self.built and self.form_widget.focused_field() is None:
            self.query_one("#size-main", VerticalScroll).scroll_relative(y=-direction, animate=False)
        else:
            super().action_nudge(direction)

    def _key(self, binding_id: str) -> str:
        keymap = getattr(self.app, "_keymap", {}) or {}
        default = next(b.key for b in self.BINDINGS if getattr(b, "id", None) == binding_id)  # type: ignore[union-attr]
        first = str(keymap.get(binding_id, default)).split(",")[0].strip()
        return {"slash": "/"}.get(first, first)

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
