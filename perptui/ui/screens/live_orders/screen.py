"""The live orders screen (``O`` on the risk and account panes, live trading only): the exchange
account's positions with their protection ("NO STOP" in red) and its open orders (perptui's marked ●).

Keys: ``r`` reads them again; ``x`` cancels the order under the cursor (after a confirmation); ``m``
moves a stop or take-profit (the order under the cursor, or the stop of the position under it: the
position's own stop where the exchange keeps it there); ``c`` closes the position under the cursor with
a reduce-only market order (its base typed, or y); ``K`` is the kill switch: every order cancelled and
every position closed, after ``KILL`` is typed (never y or Enter alone). Every exchange call runs in a
worker; a failure is one notification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Static

from perptui.domain.live.book import is_stop
from perptui.domain.quantities import PRICE
from perptui.presentation.parse import parse_number
from perptui.ui.keymap import binding
from perptui.ui.screens.live_orders.rows import (
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    kill_lines,
    order_row,
    position_row,
)
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.footer import KeysFooter
from perptui.ui.widgets.live_dialogs import TypedConfirmDialog
from perptui.ui.widgets.vim import VimTable

if TYPE_CHECKING:
    from perptui.domain.live.book import OpenOrder, Protection
    from perptui.domain.types import Position
    from perptui.services.trading.trader import LiveBook, LiveTrader

KILL_WORD = "KILL"


class LiveOrdersScreen(Screen[None]):
    DEFAULT_CSS = """
    LiveOrdersScreen { padding: 0 1; }
    LiveOrdersScreen #live-banner { background: $error; color: $text; text-style: bold; }
    LiveOrdersScreen #live-heading { text-style: bold; color: $text-primary; }
    LiveOrdersScreen .live--caption { color: $text-muted; margin-top: 1; }
    LiveOrdersScreen VimTable { height: auto; max-height: 1fr; }
    LiveOrdersScreen #live-message { height: auto; }
    LiveOrdersScreen #live-message.-error { color: $text-error; text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("live_refresh", "r", "refresh", "Refresh", "Read the positions and orders again"),
        binding("live_cancel_order", "x", "cancel_order", "Cancel order", "Cancel the selected order"),
        binding("live_move", "m", "move", "Move", "Move the selected stop or take-profit"),
        binding("live_close", "c", "close_position", "Close", "Close the selected position (reduce-only)"),
        binding("live_kill", "K", "kill", "KILL", "Cancel every order, close every position (type KILL)"),
        binding("live_back", "escape,q", "back", "Back", "Back to the pane"),
    ]

    def __init__(self, trader: LiveTrader, banner: str) -> None:
        super().__init__()
        self.trader = trader
        self.banner = banner
        self.book: LiveBook | None = None

    def compose(self) -> ComposeResult:
        yield Static(f" {self.banner} ", id="live-banner", markup=False)
        yield Static("Live orders · reading the account…", id="live-heading", markup=False)
        yield Static("Positions", classes="live--caption")
        yield VimTable(id="live-positions", cursor_type="row", zebra_stripes=True)
        yield Static("Open orders (● placed by perptui)", classes="live--caption")
        yield VimTable(id="live-orders", cursor_type="row", zebra_stripes=True)
        yield Static("", id="live-message", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.positions_table.add_columns(*POSITION_COLUMNS)
        self.orders_table.add_columns(*ORDER_COLUMNS)
        self.positions_table.focus()
        self.load()

    @property
    def positions_table(self) -> VimTable:
        return self.query_one("#live-positions", VimTable)

    @property
    def orders_table(self) -> VimTable:
        return self.query_one("#live-orders", VimTable)

    # --- reading ----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load()

    @work(exclusive=True, group="live-book", exit_on_error=False)
    async def load(self) -> None:
        try:
            settled = await self.trader.reconcile()  # orders whose answer was lost: looked up now
            book = await self.trader.book()
        except Exception as exc:  # the last book stays; the line says why it is not refreshed
            self.say(f"could not read the account: {exc}", error=True)
            return
        self.show(book)
        if settled:
            self.say("looked up: " + " · ".join(settled))

    def show(self, book: LiveBook) -> None:
        self.book = book
        naked = len(book.unprotected)
        positions, orders = len(book.positions), len(book.orders)
        heading = f"Live orders · {_count(positions, 'position')} · {_count(orders, 'open order')}"
        if naked:
            heading += f" · {naked} WITHOUT A STOP"
        self.query_one("#live-heading", Static).update(heading)
        with self.app.batch_update():
            _fill(self.positions_table, [(p.symbol, position_row(p, pr)) for p, pr in self.pairs()])
            _fill(self.orders_table, [(o.id, order_row(o)) for o in book.orders])

    def pairs(self) -> list[tuple[Position, Protection]]:
        book = self.book
        return list(zip(book.positions, book.protections, strict=False)) if book else []

    def say(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#live-message", Static)
        line.update(text)
        line.set_class(error, "-error")
        if error:
            self.notify(text, severity="error", timeout=10)

    # --- the selection ------------------------------------------------------------------------------

    def selected_position(self) -> tuple[Position, Protection] | None:
        key = _cursor_key(self.positions_table)
        found = next(((p, pr) for p, pr in self.pairs() if p.symbol == key), None)
        if found is None:
            self.say("no position selected", error=True)
        return found

    def selected_order(self) -> OpenOrder | None:
        key = _cursor_key(self.orders_table)
        found = next((o for o in self.book.orders if o.id == key), None) if self.book else None
        if found is None:
            self.say("no order selected: tab to the orders table", error=True)
        return found

    def position_of(self, symbol: str) -> Position | None:
        return next((p for p in self.book.positions if p.symbol == symbol), None) if self.book else None

    # --- the keys -------------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="live-act", exit_on_error=False)
    async def action_cancel_order(self) -> None:
        order = self.selected_order()
        if order is None:
            return
        what = f"{order.type} {order.side} {order.qty:g} on {order.symbol}"
        dialog = ConfirmDialog(f"Cancel {what}?", [f"order {order.id} ({order.client_id or 'no client id'})"])
        if await self.app.push_screen_wait(dialog):
            await self.run_call(self.trader.cancel(order), f"cancelled {what}")

    @work(exclusive=True, group="live-act", exit_on_error=False)
    async def action_move(self) -> None:
        if self.focused is self.positions_table:
            picked = self.selected_position()
            if picked is None:
                return
            position, protection = picked
            if protection.position_stop is not None:
                trigger = await self.ask_trigger(f"the {position.symbol} stop", protection.position_stop)
                if trigger is not None:
                    call = self.trader.move_position_stop(position, trigger)
                    await self.run_call(call, f"{position.symbol} stop moved to {trigger:g}")
                return
            if not protection.stops:
                self.say(f"{position.symbol} has NO STOP to move: set one on the exchange", error=True)
                return
            order: OpenOrder | None = protection.stops[0]
        else:
            order = self.selected_order()
        if order is None:
            return
        if not order.conditional or order.trigger is None:
            self.say(f"order {order.id} is not a stop or take-profit: cancel it instead", error=True)
            return
        holder = self.position_of(order.symbol)
        if holder is None:
            self.say(
                f"no position on {order.symbol}: nothing to protect, cancel the order instead", error=True
            )
            return
        what = "stop" if holder is not None and is_stop(holder, order) else "take-profit"
        trigger = await self.ask_trigger(f"the {what} on {order.symbol}", order.trigger)
        if trigger is not None:
            await self.run_call(
                self.trader.move(order, trigger, holder), f"{order.symbol} order moved to {trigger:g}"
            )

    async def ask_trigger(self, what: str, now: float) -> float | None:
        def valid(texts: list[str]) -> float:
            """Read as every price field and flag reads one (``presentation.parse``)."""
            return parse_number(texts[0], PRICE)

        dialog: FormDialog[float] = FormDialog(f"Move {what}", [("Trigger price", f"{now:g}")], valid)
        return await self.app.push_screen_wait(dialog)

    @work(exclusive=True, group="live-act", exit_on_error=False)
    async def action_close_position(self) -> None:
        picked = self.selected_position()
        if picked is None:
            return
        position, _ = picked
        base = position.symbol.split("/", 1)[0]
        dialog = TypedConfirmDialog(
            f"Close {position.side} {position.qty:g} {position.symbol} at market?",
            ["a reduce-only MARKET order for the whole position", f"mark now {position.mark_price or '—'}"],
            words=(base,),
            allow_y=True,
            banner=self.banner,
            action="close it",
        )
        if await self.app.push_screen_wait(dialog):
            await self.run_call(self.trader.close(position), f"close of {position.symbol} sent")

    @work(exclusive=True, group="live-act", exit_on_error=False)
    async def action_kill(self) -> None:
        book = self.book
        counts = (
            f"{_count(len(book.positions), 'position')}, {_count(len(book.orders), 'order')}"
            if book
            else ("everything")
        )
        dialog = TypedConfirmDialog(
            "KILL SWITCH: cancel every order and close every position?",
            [f"open now: {counts}", "every position closes at market (reduce-only)"],
            words=(KILL_WORD,),
            allow_y=False,
            banner=self.banner,
            action="kill everything",
        )
        if not await self.app.push_screen_wait(dialog):
            self.say("kill switch not used")
            return
        self.say("kill switch: reading the account, cancelling every order, closing every position…")
        try:
            outcome = await self.trader.kill()
        except Exception as exc:
            self.say(f"kill switch failed: {exc}", error=True)
            self.load()
            return
        left = outcome.left
        lines = kill_lines(outcome.cancelled_symbols, len(left.positions), len(left.orders), outcome.errors)
        self.say(" · ".join(lines), error=not outcome.clean)
        if outcome.clean:
            self.notify("kill switch: nothing is open on the account", timeout=10)
        self.show(left)

    async def run_call(self, call: Any, done: str) -> None:
        """Await an exchange call of the trader, say what came of it, and read the account again."""
        self.say("sending to the exchange…")
        try:
            result = await call
        except Exception as exc:
            self.say(str(exc) or type(exc).__name__, error=True)
        else:
            placed = getattr(result, "placed", True)
            error = getattr(result, "error", None)
            self.say(done if placed else f"{done}: NOT DONE ({error})", error=not placed)
        self.load()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _cursor_key(table: VimTable) -> str | None:
    if table.row_count == 0:
        return None
    row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
    return None if row.value is None else str(row.value)


def _fill(table: VimTable, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Rows keyed by their id; the cursor stays on the same key when it is still there."""
    kept = _cursor_key(table)
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    keys = [k for k, _ in rows]
    if kept in keys:
        table.move_cursor(row=keys.index(kept))
