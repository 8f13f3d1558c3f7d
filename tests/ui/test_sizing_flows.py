"""The sizing pane (key 2), driven from the keyboard on the seeded demo market with the clock frozen."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perptui.config.settings import Settings
from perptui.domain.errors import UsageError
from perptui.domain.quantities import PRICE, STOP_PERCENT
from perptui.domain.sizing import SizingRequest, TakeProfitSpec, size_position
from perptui.presentation.ticket import ticket_text
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.factory import build_app
from perptui.ui.panes.sizing.edits import convert_risk, convert_stop, nudge
from perptui.ui.panes.sizing.kelly import KellyDialog
from perptui.ui.panes.sizing.model import Context, FormState, entry_price, parse_number
from perptui.ui.widgets.price_ladder import Level, layout
from perptui.ui.widgets.symbol_picker import SymbolPicker
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.ui.helpers import settle, stat, sync, type_text

SIZE = (120, 40)
loopback_demo = fixtures.loopback_demo
BTC = "BTCDEMO/USDT:USDT"
ETH = "ETHDEMO/USDT:USDT"
DEMO = {"frozen_at": "2025-06-01T00:00", "seed": 7}


async def open_pane(pilot):
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    return pilot.app.pane("sizing")


async def fill(pilot, name: str, text: str, *, typed: bool = False) -> None:
    """Focus a field, replace its text (typed key by key, or pasted), press Enter (which recomputes),
    and go back to the keys with Escape."""
    field(pilot, name).focus()
    await pilot.pause()
    if typed:
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, text)
    else:
        field(pilot, name).value = text
    await pilot.press("enter", "escape")


def field(pilot, name: str):
    return pilot.app.pane("sizing").form_widget.input(name)


@sync
async def test_key_2_opens_the_pane_on_a_btc_market_with_the_entry_at_the_mark(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert app.current_pane == "sizing" and app.focused is pane
        assert pane.form.symbol == BTC
        mark, tick = pane.snapshot.mark, pane.market.price_tick
        assert mark is not None and float(field(pilot, "entry").placeholder) == pytest.approx(
            mark, abs=tick / 2
        )
        assert BTC in str(app.query_one("#size-heading").content)
        # No stop yet: a hint, no result and no field in error.
        assert pane.result is None and "type a stop" in str(app.query_one("#size-binding").content)
        assert not any(field(pilot, f).has_class("-error") for f in ("entry", "stop", "risk"))


@sync
async def test_fuzzy_search_picks_a_symbol_and_remembers_it_first(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, SymbolPicker)
        await type_text(pilot, "eth")
        await pilot.pause()
        assert app.screen.shown[0].symbol == ETH
        await pilot.press("enter")
        await settle(pilot)
        assert pane.form.symbol == ETH and pane.market.symbol == ETH
        assert pane.snapshot.market.symbol == ETH
        assert pane.recent[0] == ETH
        await pilot.press("slash")
        await pilot.pause()
        assert app.screen.shown[0].symbol == ETH  # recent symbols first
        await pilot.press("down", "escape")
        await pilot.pause()
        assert pane.form.symbol == ETH


@sync
async def test_a_decimal_comma_entry_is_read_as_a_decimal_and_an_ambiguous_one_refused(make_app) -> None:
    """On a coin near 0.02, ``0,013`` typed key by key is 0.013 (not 13); ``1,500`` could be either and is
    refused in the field with the reason."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("slash")
        await pilot.pause()
        await type_text(pilot, "1000bonk")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert pane.market.symbol == "1000BONKDEMO/USDT:USDT"
        await fill(pilot, "stop", "2", typed=True)
        await fill(pilot, "entry", "0,013", typed=True)
        assert pane.result is not None and pane.result.entry == pytest.approx(0.013)
        assert not field(pilot, "entry").has_class("-error")
        await fill(pilot, "entry", "1,500", typed=True)
        assert pane.result is None and field(pilot, "entry").has_class("-error")
        assert "entry: '1,500' is ambiguous" in str(app.query_one("#size-binding").content)
        await fill(pilot, "entry", "-1", typed=True)
        assert "entry: '-1' must be above 0" in str(app.query_one("#size-binding").content)


@sync
async def test_long_then_short_and_the_quantity_is_the_domains(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2", typed=True)
        await fill(pilot, "risk", "1.5", typed=True)
        await fill(pilot, "targets", "1,2")
        long = pane.result
        assert long is not None and long.side == "long" and long.stop < long.entry
        await pilot.press("s")
        short = pane.result
        assert short is not None and short.side == "short" and short.stop > short.entry
        assert "SHORT" in str(app.query_one("#size-side").content)

        ctx = pane.context()
        entry = float(field(pilot, "entry").placeholder)
        assert entry == short.entry
        expected = size_position(
            SizingRequest(
                market=pane.market,
                side="short",
                entry=entry,
                stop=entry * 1.02,
                equity=ctx.equity,
                risk_fraction=0.015,
                free_margin=ctx.free_margin,
                slippage_bps=app.ctx.settings.sizing.slippage_bps,
                take_profits=(TakeProfitSpec(r=1), TakeProfitSpec(r=2)),
                funding_rate=ctx.funding_rate,
                funding_interval_hours=ctx.funding_interval_hours,
                mark=ctx.mark,
                max_risk_fraction=app.ctx.settings.risk.max_risk_pct / 100,
                funding_warn_apr=app.ctx.settings.sizing.funding_warn_apr_pct / 100,
            )
        )
        assert short.quantity == expected.quantity > 0
        assert short.liquidation_price == expected.liquidation_price
        assert stat(pilot, "res-quantity") == f"{expected.quantity:.3f} BTCDEMO"
        assert stat(pilot, "res-risk") == f"{expected.risk_usd:,.2f} USDT"
        assert len(short.take_profits) == 2 and "TP2" in str(app.query_one("#targets-table").content)


@sync
async def test_up_and_down_nudge_a_field_by_one_tick_or_step(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        tick = pane.market.price_tick
        mark = float(field(pilot, "entry").placeholder)
        field(pilot, "entry").focus()
        await pilot.press("up")
        assert float(field(pilot, "entry").value) == pytest.approx(mark + tick)
        await pilot.press("down", "down")
        assert float(field(pilot, "entry").value) == pytest.approx(mark - tick)
        field(pilot, "risk").focus()
        await pilot.press("up")
        assert field(pilot, "risk").value == "1.1"
        field(pilot, "leverage").focus()
        await pilot.press("up", "up")
        assert field(pilot, "leverage").value == "3"
        await pilot.press("escape")
        assert app.focused is pane


@sync
async def test_a_stop_on_the_wrong_side_is_a_field_error_with_no_result(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        assert pane.result is not None
        await pilot.press("x")  # stop mode: % -> price, the same stop carried over
        assert pane.form.stop_mode == "price" and pane.result is not None
        above = f"{pane.snapshot.mark * 1.01:.1f}"
        await fill(pilot, "stop", above)
        assert pane.result is None
        assert field(pilot, "stop").has_class("-error")
        message = str(app.query_one("#size-binding").content)
        assert "stop:" in message and "a long's stop goes below it" in message
        assert app.query_one("#size-position").has_class("-invalid")
        await pilot.press("c")
        assert app.clipboard == ""
        await pilot.press("s")  # the same stop is fine for a short
        assert pane.result is not None and not field(pilot, "stop").has_class("-error")


@sync
async def test_leverage_above_the_markets_maximum_is_an_error(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await fill(pilot, "leverage", "200")
        assert pane.result is None and field(pilot, "leverage").has_class("-error")
        assert "above the largest accepted leverage 125x (BTCDEMO/USDT:USDT's maximum)" in str(
            app.query_one("#size-binding").content
        )
        await fill(pilot, "leverage", "20")
        assert pane.result is not None and pane.result.leverage == 20


@sync
async def test_the_entry_follows_the_mark_until_edited() -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    source = DemoExchange(7, clock)  # its own clock, moved by this test
    settings = Settings.model_validate({"demo": DEMO})
    app = build_app(settings, source=source, store=Store.open(":memory:"), clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        first = pane.result.entry
        clock.set(FROZEN_NOW_MS + 7 * 60_000)
        pane.refresh_data()
        await settle(pilot)
        moved = pane.result.entry
        assert moved != first and moved == pytest.approx(pane.snapshot.mark, abs=0.05)
        assert float(field(pilot, "entry").placeholder) == moved
        await fill(pilot, "entry", "85000")
        clock.set(FROZEN_NOW_MS + 13 * 60_000)
        pane.refresh_data()
        await settle(pilot)
        assert abs(pane.snapshot.mark - moved) > 0.1 and pane.result.entry == 85_000
        assert "fixed" in str(app.query_one("#unit-entry").content)
        await pilot.press("f")
        assert pane.result.entry == pytest.approx(pane.snapshot.mark, abs=0.05)
        assert field(pilot, "entry").value == ""


@sync
async def test_c_copies_the_ticket(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "1.5")
        await pilot.press("c")
        m = pane.market
        assert app.clipboard == ticket_text(pane.result, m.price_tick, m.amount_step, m.settle)
        assert app.clipboard.startswith("Market") and "Quantity" in app.clipboard


@sync
async def test_the_kelly_helper_sets_the_risk(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KellyDialog)
        await type_text(pilot, "40")
        await pilot.press("enter")
        await type_text(pilot, "1.6")
        await pilot.pause()
        assert "half Kelly 1.25%" in str(app.screen.query_one("#kelly-result").content)
        await pilot.press("enter")
        await settle(pilot)
        assert pane.form.risk == "1.25" and field(pilot, "risk").value == "1.25"
        assert pane.result.risk_budget == pytest.approx(0.0125 * pane.result.equity)


@sync
async def test_recent_symbols_and_the_form_survive_a_restart(tmp_path, demo_source) -> None:
    settings = Settings.model_validate({"demo": DEMO})
    path = tmp_path / "perptui.db"
    store = Store.open(path)
    app = build_app(settings, source=demo_source, store=store, clock=demo_source.clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await pilot.press("slash")
        await type_text(pilot, "eth")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s", "x", "m")
        await fill(pilot, "stop", "6100")
        await fill(pilot, "risk", "0.5")
        await fill(pilot, "targets", "1.5,3")
        await settle(pilot)
    store.close()

    store = Store.open(path)
    app = build_app(settings, source=demo_source, store=store, clock=demo_source.clock)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        form = pane.form
        assert (form.symbol, form.side, form.stop_mode, form.stop) == (ETH, "short", "price", "6100")
        assert (form.risk, form.margin_mode, form.targets, form.entry) == ("0.5", "cross", "1.5,3", "")
        assert field(pilot, "stop").value == "6100" and pane.recent[:2] == (ETH, BTC)
        assert pane.result is not None and pane.result.side == "short", pane.error
    store.close()


@sync
async def test_palette_and_help_know_the_sizing_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.pane("sizing")
        assert not pane.built  # built when first shown: the first frame does not pay for it
        await pilot.press("ctrl+p")
        await type_text(pilot, "size short")
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_pane == "sizing" and pane.built
        assert pane.form.side == "short" and "SHORT" in str(app.query_one("#size-side").content)
        await pilot.press("question_mark")
        await pilot.pause()
        ids = {r.binding_id for r in app.screen.rows if r.section == "Size"}
        assert {"size_symbol", "size_long", "size_short", "size_copy", "size_kelly", "size_up"} <= ids


def test_the_calculator_is_not_imported_before_the_first_frame() -> None:
    """The pane's modules import the calculator, the ticket and the market inputs on first use."""
    lazy = ("perptui.domain.sizing", "perptui.presentation.ticket", "perptui.services.sizing_inputs")
    script = f"import sys, perptui.ui.app\nprint([m for m in {lazy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@sync
async def test_a_remapped_sizing_key_works_and_the_form_shows_it(demo_source) -> None:
    keymap = {"size_short": "S", "size_edit": "i"}
    settings = Settings.model_validate({"demo": DEMO, "keymap": keymap})
    app = build_app(settings, source=demo_source, store=Store.open(":memory:"), clock=demo_source.clock)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert str(app.query_one("#key-side").content) == "l S"
        await pilot.press("s")
        assert pane.form.side == "long"
        await pilot.press("S")
        assert pane.form.side == "short"
        await pilot.press("i")
        assert app.focused is field(pilot, "stop")


# --- the pane's pure parts ---------------------------------------------------------------------------


def test_the_ladder_clips_a_far_liquidation_and_keeps_levels_apart() -> None:
    levels = [
        Level("target", "TP1", 105.0),
        Level("breakeven", "B/E", 100.1),
        Level("entry", "Entry", 100.0),
        Level("stop", "Stop", 98.0),
        Level("liquidation", "Liq.", 10.0),
    ]
    placed = {p.level.label: p for p in layout(levels, 20)}
    assert placed["TP1"].row <= 1 and placed["Liq."].row == 19 and placed["Liq."].clipped == -1
    assert placed["B/E"].row < placed["Entry"].row < placed["Stop"].row < 19
    assert len({p.row for p in placed.values()}) == 5  # never two on one row
    near = layout([*levels[:4], Level("liquidation", "Liq.", 96.0)], 20)
    assert all(p.clipped == 0 for p in near)
    assert layout(levels, 1) == [] and layout([], 20) == []


def test_the_remembered_form_ignores_what_it_cannot_read() -> None:
    form = FormState(symbol=BTC, side="short", entry="90000", stop_mode="atr", stop="1.5", targets="1,2")
    data = form.as_dict()
    assert "entry" not in data  # a typed entry goes stale: a restart follows the mark again
    assert FormState.from_dict(data) == FormState(
        symbol=BTC, side="short", stop_mode="atr", stop="1.5", targets="1,2"
    )
    assert FormState.from_dict({"side": "sideways", "stop_mode": 3, "risk": "2"}) == FormState(risk="2")
    assert FormState.from_dict(["not", "a", "dict"]) == FormState()


def test_numbers_as_typed_and_nudges(demo_source) -> None:
    import asyncio

    market = next(m for m in asyncio.run(demo_source.load_markets()) if m.symbol == BTC)
    ctx = Context(market, mark=85_913.46, equity=5_000.0, free_margin=5_000.0, account_risk=0.01)
    assert parse_number("104,500.5", "entry", PRICE) == 104_500.5
    assert parse_number("2%", "stop", STOP_PERCENT) == 2
    assert parse_number("1,50", "stop", STOP_PERCENT) == 1.5  # cannot be a thousands separator
    with pytest.raises(UsageError, match=r"^stop: '1,500' is ambiguous: .*; type 1500 or 1.5$"):
        parse_number("1,500", "stop", PRICE)
    with pytest.raises(UsageError, match=r"^entry: '-1' must be above 0$"):
        parse_number("-1", "entry", PRICE)
    assert entry_price(FormState(), ctx) == 85_913.5  # the mark on the tick grid
    assert nudge("entry", FormState(), ctx, 1) == "85913.6"
    assert nudge("risk", FormState(), ctx, -1) == "0.9"
    assert nudge("risk", FormState(risk_mode="amount"), ctx, 1) == "51"
    assert nudge("leverage", FormState(leverage="125"), ctx, 1) == "125"  # the market's maximum
    assert nudge("stop", FormState(stop="0.1"), ctx, -1) == "0.1"
    price = convert_stop(FormState(stop="2"), ctx, "price")
    assert price == "84195.2"
    assert convert_stop(FormState(stop_mode="price", stop=price), ctx, "pct") == "2"
    assert convert_risk(FormState(risk="1.5"), ctx, "amount") == "75"


@sync
async def test_on_an_exchange_the_mark_is_live_and_cached_when_the_exchange_fails(
    loopback_demo: LoopbackExchange,
) -> None:
    settings = Settings.model_validate(
        {
            "exchange": "binanceusdm",
            "api_base_url": loopback_demo.base_url,
            "network": {"max_retries": 1, "timeout_ms": 10_000, "backoff_s": 0.01},
            "ui": {"refresh_s": 600},  # no timed refresh: the test starts the one it waits for
        }
    )
    store = Store.open(":memory:")
    app = build_app(settings, source=open_market_data(settings, store), store=store)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        assert pane.market.base.startswith("BTC")
        assert not pane.snapshot.cached, pane.notes
        await fill(pilot, "stop", "2")
        live = pane.result
        assert live is not None and live.entry == pytest.approx(pane.snapshot.mark, rel=1e-6)
        loopback_demo.faults.http(503, "/fapi/*", times=None)
        # The refresh, awaited by itself (settle() would raise on the market feed's failing polls).
        await pane.poll().wait()
        await pilot.pause()
        assert pane.snapshot.cached and "CACHED" in str(app.query_one("#size-heading").content)
        assert pane.result is not None and pane.result.quantity > 0  # sized on the cached mark


@sync
async def test_an_atr_stop_carries_the_stop_over_and_rereads_the_atr_after_a_bar_closes() -> None:
    clock = FrozenClock(FROZEN_NOW_MS + 10 * 60_000)
    source = DemoExchange(7, clock)
    settings = Settings.model_validate({"demo": DEMO})
    app = build_app(settings, source=source, store=Store.open(":memory:"), clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        stop = pane.result.stop
        await pilot.press("x", "x")  # % -> price -> ATR multiple
        await settle(pilot)
        assert pane.form.stop_mode == "atr"
        reading = pane.atr[1]
        assert reading is not None and reading.value > 0 and reading.timeframe == "1h"
        multiple = float(field(pilot, "stop").value)
        assert multiple == pytest.approx((pane.result.entry - stop) / reading.value, abs=0.005)
        # an ATR stop lands on the tick (0.1), rounded away from the entry
        assert pane.result.stop == pytest.approx(pane.result.entry - multiple * reading.value, abs=0.1)
        assert pane.result.stop <= pane.result.entry - multiple * reading.value
        assert "ATR(14, 1h)" in str(app.query_one("#size-atr").content)
        clock.set(FROZEN_NOW_MS + 70 * 60_000)  # the next hourly bar has closed
        pane.refresh_data()
        await settle(pilot)
        assert pane.atr[1].last_close_time == reading.last_close_time + 3_600_000
