"""Render every built pane on the demo market with a frozen clock to SVG.

    python -m perptui.ui.screenshots [--out screenshots]

Deterministic: seed 7, clock frozen at 2025-06-01T00:00Z, 120x40 (and a few at 80x24), an in-memory
store holding a paper account opened a month earlier with a few deposits and a withdrawal (so the chart
has a history).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from perptui.domain.types import Side
    from perptui.services.marketdata import MarketData
    from perptui.ui.app import PerptuiApp

FROZEN_AT = "2025-06-01T00:00"
SIZE = (120, 40)
DAY_MS = 86_400_000
#: (days before now, kind, amount) of the sample account's history.
HISTORY = ((21, "deposit", 1_500.0), (9, "withdraw", 400.0), (2, "deposit", 250.0))
#: Sample paper positions (symbol, side, qty, leverage, stop as a fraction of the mark): far from
#: liquidation, near the minimum distance (warning) and inside it (critical).
POSITIONS: tuple[tuple[str, Side, float, float, float | None], ...] = (
    ("BTCDEMO/USDT:USDT", "long", 0.02, 3.0, 0.95),
    ("ETHDEMO/USDT:USDT", "short", 0.3, 9.0, 1.05),
    ("SOLDEMO/USDT:USDT", "long", 5.0, 12.0, None),
)


def demo_app(
    *, history: bool = True, source: MarketData | None = None, config: dict[str, Any] | None = None
) -> PerptuiApp:
    """The demo app the screenshots and snapshot tests use. ``source``: a DemoExchange to reuse (its
    clock must be frozen at ``FROZEN_AT``); tests share one so its caches stay warm. ``config``: more
    settings sections (``{"risk": {...}}``)."""
    from perptui.config.settings import Settings
    from perptui.services.accounts import paper_account
    from perptui.services.clock import FrozenClock
    from perptui.services.demo import DemoExchange
    from perptui.services.store import Store
    from perptui.ui.factory import build_app

    settings = Settings.model_validate({"demo": {"frozen_at": FROZEN_AT, "seed": 7}, **(config or {})})
    now = settings.demo.frozen_at_ms()
    assert now is not None
    store = Store.open(":memory:")
    if history:
        clock = FrozenClock(now - 30 * DAY_MS)
        account = paper_account(settings, store, clock)
        account.open()
        for days, kind, amount in HISTORY:
            clock.set(now - days * DAY_MS)
            getattr(account, kind)(amount)
    if source is None:
        source = DemoExchange(settings.demo.seed, FrozenClock(now))
    clock = getattr(source, "clock", None) or FrozenClock(now)
    return build_app(settings, source=source, store=store, clock=clock)


def open_sample_positions(app: PerptuiApp) -> None:
    """Open ``POSITIONS`` on the app's paper account at the demo marks (blocking: call in a thread)."""
    from perptui.domain.market_rules import level_rounding, round_price
    from perptui.domain.paper import OrderRequest

    ctx = app.ctx
    source = ctx.source()
    markets = asyncio.run(source.load_markets())
    ctx.store().upsert_markets(ctx.exchange_name, markets, ctx.clock.now_ms())
    engine = ctx.paper_engine()
    engine.book.use(markets)
    rates = asyncio.run(source.fetch_funding_rates([p[0] for p in POSITIONS]))
    for symbol, side, qty, leverage, stop in POSITIONS:
        mark = rates[symbol].mark
        assert mark is not None
        rules = engine.book.rules(symbol)
        stop_price = None if stop is None else round_price(rules, mark * stop, level_rounding(side, "stop"))
        request = OrderRequest(symbol, side, qty, leverage=leverage, margin_mode="isolated", stop=stop_price)
        engine.place_order(replace(request, mark=mark))


#: The carry pair of the risk screenshot: long spot and short perp of the same quantity.
SAMPLE_PAIR = ("ENADEMO/USDT:USDT", 1_000.0)


def open_sample_pair(app: PerptuiApp, symbol: str = SAMPLE_PAIR[0], qty: float = SAMPLE_PAIR[1]) -> None:
    """A carry pair of ``qty`` on ``symbol`` at the demo's mark and spot price (its index). Blocking."""
    ctx = app.ctx
    source = ctx.source()
    markets = asyncio.run(source.load_markets())
    ctx.store().upsert_markets(ctx.exchange_name, markets, ctx.clock.now_ms())
    engine = ctx.paper_engine()
    engine.book.use(markets)
    rate = asyncio.run(source.fetch_funding_rates([symbol]))[symbol]
    engine.open_pair(symbol, qty, mark=rate.mark, spot=rate.index)


async def settle(pilot: Pilot) -> None:
    """Wait until the workers are done and the screen has redrawn; no blinking cursor."""
    app = pilot.app
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


SHOTS: dict[str, Callable[[Pilot], Awaitable[None]]] = {}


def shot(name: str) -> Callable[[Callable[[Pilot], Awaitable[None]]], Callable[[Pilot], Awaitable[None]]]:
    def register(fn: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
        SHOTS[name] = fn
        return fn

    return register


@shot("account")
async def _account(pilot: Pilot) -> None:
    await settle(pilot)


@shot("account-privacy")
async def _privacy(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


@shot("help")
async def _help(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def _size(pilot: Pilot, fields: dict[str, str], keys: tuple[str, ...] = ()) -> None:
    """Open the sizing pane, type ``fields`` (name -> text) into the form, press ``keys`` on the pane."""
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    form = pilot.app.pane("sizing").form_widget  # type: ignore[attr-defined]  # Pilot's app is textual's App; pane() is PerptuiApp's
    for name, text in fields.items():
        form.input(name).focus()
        await pilot.press("ctrl+u", *[{",": "comma", ".": "full_stop"}.get(c, c) for c in text], "enter")
    await pilot.press("escape", *keys)
    await settle(pilot)


@shot("sizing-long")
async def _sizing_long(pilot: Pilot) -> None:
    await _size(pilot, {"stop": "2", "targets": "1,2,3"})


@shot("sizing-short")
async def _sizing_short(pilot: Pilot) -> None:
    await _size(pilot, {"stop": "1.5", "risk": "0.75", "leverage": "5", "targets": "1.5,3"}, ("s",))


@shot("sizing-warning")
async def _sizing_warning(pilot: Pilot) -> None:
    """High leverage with the stop beyond the liquidation price, and more risk than the maximum."""
    await _size(pilot, {"stop": "3", "risk": "3", "leverage": "50", "targets": "2"})


async def _scanner(pilot: Pilot, keys: tuple[str, ...] = ()) -> None:
    """Open the scanner, wait for the backfill and the side panel's history, press ``keys``."""
    await settle(pilot)
    await pilot.press("3")
    pane = pilot.app.pane("scanner")  # type: ignore[attr-defined]  # Pilot's app is textual's App; pane() is PerptuiApp's

    def ready() -> bool:
        # The side panel's history loads only while the panel is on screen (under 100 columns it folds).
        key = pane.table.cursor_key
        history = not pane.detail_shown or (pane.history is not None and pane.history[0] == key)
        return pane.backfill_done_at is not None and history

    for _ in range(200):
        await settle(pilot)
        if ready():
            break
        await pilot.pause(0.05)
    await pilot.press(*keys)
    await settle(pilot)


@shot("scanner")
async def _scanner_default(pilot: Pilot) -> None:
    await _scanner(pilot, ("j", "j"))


@shot("scanner-wide")
async def _scanner_wide(pilot: Pilot) -> None:
    """The side panel hidden, sorted by the 30-day mean, perps under 10% |APR| hidden."""
    keys = ("i", "full_stop", "full_stop", "full_stop", "a", "1", "0", "enter")
    await _scanner(pilot, keys)


async def open_risk(pilot: Pilot, *, positions: bool = True, sample: bool | None = None) -> Any:
    """Open the sample paper positions (``sample``, by default when ``positions`` are expected), then
    the risk pane once it has drawn a report with (or without) positions; returns the pane."""
    await settle(pilot)
    if positions if sample is None else sample:
        await asyncio.to_thread(open_sample_positions, pilot.app)  # type: ignore[arg-type]  # Pilot's app is the PerptuiApp it drives
    await pilot.press("5")
    pane = pilot.app.pane("risk")  # type: ignore[attr-defined]  # Pilot's app is textual's App; pane() is PerptuiApp's
    for _ in range(200):
        await settle(pilot)
        report = pane.report
        if report is not None and bool(report.positions) == positions and not pane.polling:
            return pane
        await pilot.pause(0.05)
    raise TimeoutError("the risk pane drew no report")


async def _risk(pilot: Pilot, keys: tuple[str, ...] = ()) -> None:
    await open_risk(pilot)
    await pilot.press(*keys)
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


@shot("risk")
async def _risk_default(pilot: Pilot) -> None:
    await _risk(pilot, ("j", "j"))


@shot("risk-pair")
async def _risk_with_a_pair(pilot: Pilot) -> None:
    """The sample positions and a carry pair, shown as one hedged row."""
    await settle(pilot)
    await asyncio.to_thread(open_sample_pair, pilot.app)  # type: ignore[arg-type]  # Pilot's app is the PerptuiApp it drives
    await _risk(pilot)


async def open_plan(pilot: Pilot) -> Any:
    """The allocation pane once its first plan is solved; returns the pane."""
    await settle(pilot)
    await pilot.press("4")
    pane = pilot.app.pane("allocation")  # type: ignore[attr-defined]  # Pilot's app is textual's App; pane() is PerptuiApp's
    for _ in range(400):
        await settle(pilot)
        if pane.plan is not None and not pane.solving:
            return pane
        await pilot.pause(0.05)
    raise TimeoutError("the allocation pane solved no plan")


@shot("allocation")
async def _allocation(pilot: Pilot) -> None:
    await open_plan(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def open_backtest(pilot: Pilot, span: tuple[str, str] | None = None) -> Any:
    """The backtest view opened from the allocation pane (``B``), after its run (over ``span``, the
    from and to dates typed in its dialog, when given); returns the screen."""
    from textual.widgets import Input

    from perptui.ui.screens.backtest import BacktestScreen
    from perptui.ui.widgets.dialogs import FormDialog

    await open_plan(pilot)
    await pilot.press("B")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BacktestScreen)
    if span is not None:
        await pilot.press("d")
        for _ in range(150):
            if isinstance(pilot.app.screen, FormDialog):
                break
            await pilot.pause(0.02)
        fields = list(pilot.app.screen.query(Input))
        for field, text in zip(fields, span, strict=True):
            field.value = text
        fields[-1].focus()
        await pilot.press("enter")
    for _ in range(600):
        await settle(pilot)
        if not screen.running and screen.shown is not None and screen.shown.setup == screen.setup:
            return screen
        await pilot.pause(0.05)
    raise TimeoutError("the backtest did not finish")


@shot("backtest")
async def _backtest(pilot: Pilot) -> None:
    await open_backtest(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def open_plan_trades(pilot: Pilot) -> Any:
    """The confirmation of the plan's trades (``x`` on the allocation pane); returns the dialog. Its
    worker waits for the answer, so this waits for the dialog rather than for the workers."""
    from perptui.ui.widgets.dialogs import ConfirmDialog

    await open_plan(pilot)
    pilot.app.clear_notifications()
    await pilot.press("x")
    for _ in range(200):
        if isinstance(pilot.app.screen, ConfirmDialog):
            await pilot.pause()
            return pilot.app.screen
        await pilot.pause(0.02)
    raise TimeoutError("no confirmation of the plan's trades")


@shot("plan-trades")
async def _plan_trades(pilot: Pilot) -> None:
    await open_plan_trades(pilot)


@shot("allocation-details")
async def _allocation_details(pilot: Pilot) -> None:
    """On a narrow terminal: the notes and the frontier in the table's place (``i``)."""
    await open_plan(pilot)
    await pilot.press("i")
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


@shot("sizing-order")
async def _sizing_order(pilot: Pilot) -> None:
    """The order confirmation (``o``) of the trade with warnings: the stop beyond the liquidation price."""
    from perptui.ui.widgets.dialogs import ConfirmDialog

    await _size(pilot, {"stop": "3", "risk": "3", "leverage": "50", "targets": "2"})
    await pilot.press("o")
    for _ in range(150):  # the worker that pushed the dialog waits for the answer: no settle here
        if isinstance(pilot.app.screen, ConfirmDialog):
            break
        await pilot.pause(0.02)
    await pilot.pause()


@shot("risk-close")
async def _risk_close(pilot: Pilot) -> None:
    """The confirmation of closing the position under the cursor (SOL, inside the liquidation limit)."""
    from perptui.ui.widgets.dialogs import ConfirmDialog

    await _risk(pilot, ("j", "j"))
    await pilot.press("c")
    for _ in range(150):
        if isinstance(pilot.app.screen, ConfirmDialog):
            break
        await pilot.pause(0.02)
    await pilot.pause()


@shot("scanner-panel")
async def _scanner_panel(pilot: Pilot) -> None:
    """``i`` on the scanner: under 100 columns the folded side panel comes back over the table."""
    await _scanner(pilot, ("j", "j", "i"))


async def open_alert_rules(pilot: Pilot) -> Any:
    """The alert rules screen opened from the risk pane (``a``) once its rules are read; returns it."""
    from perptui.ui.screens.alerts import AlertsScreen

    await open_risk(pilot, positions=False)
    await pilot.press("a")
    for _ in range(200):
        await settle(pilot)
        screen = pilot.app.screen
        if isinstance(screen, AlertsScreen) and screen.loaded is not None:
            pilot.app.clear_notifications()
            await pilot.pause()
            return screen
        await pilot.pause(0.02)
    raise TimeoutError("the alert rules screen did not open")


@shot("alerts")
async def _alerts(pilot: Pilot) -> None:
    await open_alert_rules(pilot)


@shot("alerts-form")
async def _alerts_form(pilot: Pilot) -> None:
    """The add form (``a`` on the rules screen)."""
    await open_alert_rules(pilot)
    await pilot.press("a")
    await settle(pilot)


#: The shots also rendered at the smallest supported terminal, 80x24 (``NAME-80x24.svg``).
SMALL_SHOTS = (
    "account",
    "sizing-long",
    "scanner",
    "allocation",
    "risk",
    "sizing-order",
    "alerts",
    "alerts-form",
)
SMALL = (80, 24)
#: Shots of what only a narrow terminal shows, rendered at 80x24 alone.
NARROW_ONLY = ("scanner-panel", "allocation-details")


async def render(name: str, size: tuple[int, int] = SIZE) -> str:
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await SHOTS[name](pilot)
        return app.export_screenshot(title=f"perptui · {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m perptui.ui.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder (default: screenshots)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(name, SMALL if name in NARROW_ONLY else SIZE, name) for name in SHOTS]
    jobs += [(name, SMALL, f"{name}-80x24") for name in SMALL_SHOTS]
    for name, size, file in jobs:
        path = args.out / f"{file}.svg"
        path.write_text(asyncio.run(render(name, size)), encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
