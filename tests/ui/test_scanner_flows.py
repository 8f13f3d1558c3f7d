"""The scanner pane from the keyboard on the seeded demo market: every perp live with its history and
carry, the live update path (only changed cells written; sort, cursor and scroll kept), sorting,
filters, Enter into the sizing pane, the view remembered across a restart."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot
from textual.widgets import Input, Static

from perptui.config.settings import Settings
from perptui.domain.scanner import filter_rows, sort_rows
from perptui.services.scan import linear_perps
from perptui.services.store import Store
from perptui.ui.factory import build_app
from perptui.ui.panes.scanner import ScannerPane, data
from tests.ui.helpers import notifications, settle, sync, type_text


async def open_scanner(pilot: Pilot) -> ScannerPane:
    await settle(pilot)
    await pilot.press("3")
    pane = pilot.app.pane("scanner")  # type: ignore[attr-defined]
    for _ in range(100):  # the first scan, then the backfill and the statistics it brings
        await settle(pilot)
        if pane.last is not None and pane.backfilling is None and pane.backfill_done_at is not None:
            break
        await pilot.pause(0.05)
    await settle(pilot)
    assert isinstance(pane, ScannerPane)
    return pane


def cell(pane: ScannerPane, key: str, column: str) -> str:
    return pane.table.cell_text(key, column)


def heading(pane: ScannerPane) -> str:
    return str(pane.query_one("#scan-heading", Static).render())


@sync
async def test_every_demo_perp_is_listed_live_with_its_history_and_carry(make_app, demo_source) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        perps = linear_perps(await demo_source.load_markets())
        assert pane.table.row_count == len(perps) > 20
        assert "live" in heading(pane) and f"{len(perps)} of {len(perps)} perps" in heading(pane)
        # Sorted by |APR|, largest first, as the domain sorts them.
        expected = [r.key for r in sort_rows(pane.rows.values(), "abs_apr", descending=True)]
        assert pane.table.keys_in_order() == expected
        # The backfill filled 90 days of history: every perp has its statistics and its carry.
        btc = "demo:BTCDEMO/USDT:USDT"
        row = pane.rows[btc]
        assert None not in (row.mean_apr_7d, row.mean_apr_30d, row.mean_apr_90d, row.zscore_30d)
        assert row.carry_net_apr is not None
        assert cell(pane, btc, "30d") == f"{row.mean_apr_30d * 100:+.1f}%"
        assert cell(pane, btc, "rate") == f"{row.funding_rate * 100:+.4f}%"


@sync
async def test_a_changed_rate_rewrites_one_cell_and_keeps_sort_cursor_and_scroll(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("j", "j", "j")
        order, key = pane.table.keys_in_order(), pane.table.cursor_key
        scroll = pane.table.scroll_y
        assert key == order[3]
        last = pane.last
        assert last is not None
        # The next poll brings the same rows but one rate (sorted by |APR|, which stays put).
        target = order[10]
        rows = [
            replace(r, funding_rate=(r.funding_rate or 0) + 1e-6) if r.key == target else r
            for r in last.scan.rows
        ]
        pane.apply_scan(data.Scanned(replace(last.scan, rows=rows), last.fetched))
        await pilot.pause()
        assert pane.table.last_written == 1
        assert cell(pane, target, "rate") == f"{(pane.rows[target].funding_rate or 0) * 100:+.4f}%"
        assert pane.table.keys_in_order() == order
        assert (pane.table.cursor_key, pane.table.scroll_y) == (key, scroll)
        # A change that moves a row in the sort: the order follows, the cursor stays on its perp.
        mover = order[-1]
        rows = [replace(r, apr=9.99) if r.key == mover else r for r in rows]
        pane.apply_scan(data.Scanned(replace(last.scan, rows=rows), last.fetched))
        await pilot.pause()
        assert pane.table.keys_in_order()[0] == mover
        assert pane.table.cursor_key == key and pane.table.cursor_row == 4


@sync
async def test_sort_by_any_column_from_the_keyboard_and_reverse(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("comma")  # from |APR| back to the interval column
        assert pane.view.sort == "interval_hours" and pane.view.descending
        assert pane.table.keys_in_order() == [
            r.key for r in sort_rows(pane.rows.values(), "interval_hours", descending=True)
        ]
        await pilot.press("comma", "comma")  # the perp's name: A to Z
        assert (pane.view.sort, pane.view.descending) == ("symbol", False)
        names = [pane.rows[k].symbol for k in pane.table.keys_in_order()]
        assert names == sorted(names)
        await pilot.press("r")
        assert [pane.rows[k].symbol for k in pane.table.keys_in_order()] == sorted(names, reverse=True)
        assert heading(pane).endswith("by perp ▼")
        for _ in range(10):  # on to 30d mean APR
            await pilot.press("full_stop")
            if pane.view.sort == "mean_apr_30d":
                break
        assert pane.table.keys_in_order() == [
            r.key for r in sort_rows(pane.rows.values(), "mean_apr_30d", descending=True)
        ]
        assert pane.table.header_text("30d") == "30d▼"


@sync
async def test_filters_by_text_min_volume_and_min_apr_and_bad_input_says_what_is_accepted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("slash")
        await type_text(pilot, "btc")
        await pilot.press("enter")
        assert pane.table.keys_in_order() == ["demo:BTCDEMO/USDT:USDT"]
        assert app.focused is pane.table
        await pilot.press("slash", "ctrl+u", "escape", "a")
        await type_text(pilot, "20")
        expected = filter_rows(pane.rows.values(), min_abs_apr=0.20)
        assert 0 < len(expected) < len(pane.rows)
        assert set(pane.table.keys_in_order()) == {r.key for r in expected}
        await pilot.press("ctrl+u")
        await type_text(pilot, "lots")
        message = str(pane.query_one("#scan-message", Static).render())
        assert "min |APR| 'lots'" in message and "e.g. 10 for 10%" in message
        assert pane.view.min_apr == 0.0  # the last valid entry (the field was emptied first)
        assert pane.query_one("#scan-min-apr", Input).has_class("-invalid")
        await pilot.press("ctrl+u", "escape", "v")
        await type_text(pilot, "150m")
        assert pane.view.min_volume_usd == 150e6
        shown = {pane.rows[k].volume_24h_usd for k in pane.table.keys_in_order()}
        assert shown and all(v is not None and v >= 150e6 for v in shown)


@sync
async def test_enter_opens_the_sizing_pane_on_the_selected_perp(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("j", "j")
        chosen = pane.rows[pane.table.cursor_key or ""].symbol
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_pane == "sizing"  # type: ignore[attr-defined]
        sizing = app.pane("sizing")  # type: ignore[attr-defined]
        for _ in range(50):
            await settle(pilot)
            if sizing.form.symbol == chosen and sizing.snapshot is not None:
                break
        assert sizing.form.symbol == chosen
        assert sizing.snapshot is not None and sizing.snapshot.market.symbol == chosen


@sync
async def test_enter_sizes_the_side_that_earns_the_funding(make_app) -> None:
    """Positive funding: longs pay shorts, so the short earns it; negative: the long does."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        sizing = app.pane("sizing")  # type: ignore[attr-defined]
        rows = [pane.rows[k] for k in pane.table.keys_in_order()]
        paid_by_longs = next(r for r in rows if r.funding_rate and r.funding_rate > 0)
        paid_by_shorts = next(r for r in rows if r.funding_rate and r.funding_rate < 0)
        for row, side in ((paid_by_longs, "short"), (paid_by_shorts, "long"), (paid_by_longs, "short")):
            await pilot.press("3")
            await settle(pilot)
            assert pane.table.select_key(row.key)
            await pilot.press("enter")
            for _ in range(50):
                await settle(pilot)
                if sizing.form.symbol == row.symbol:
                    break
            assert app.current_pane == "sizing"  # type: ignore[attr-defined]
            assert (sizing.form.symbol, sizing.form.side) == (row.symbol, side)
            assert any(f"sizing a {side.upper()} on {row.base}" in m for m in notifications(pilot))


@sync
async def test_the_view_is_remembered_across_a_restart(demo_source) -> None:
    settings = Settings.model_validate({"demo": {"frozen_at": "2025-06-01T00:00", "seed": 7}})
    store = Store.open(":memory:")
    async with build_app(settings, source=demo_source, store=store).run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("full_stop", "r", "i", "v")
        await type_text(pilot, "5m")
        await pilot.press("enter")
        view = pane.view
        await settle(pilot)
    assert (view.sort, view.descending, view.detail, view.min_volume_usd) == (
        "next_funding_time",
        True,
        False,
        5e6,
    )
    async with build_app(settings, source=demo_source, store=store).run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        assert pane.view == view
        assert pane.query_one("#scan-min-volume", Input).value == "5m"
        assert not pane.query_one("#scan-detail").display


@sync
async def test_a_hidden_scanner_neither_polls_nor_redraws_and_catches_up_when_shown(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        assert pane._poll_timer is not None  # the next refresh is scheduled while shown
        await pilot.press("1")
        assert pane._poll_timer is None and not pane.active
        last = pane.last
        assert last is not None
        key = pane.table.keys_in_order()[0]
        rows = [replace(r, funding_rate=0.0042) if r.key == key else r for r in last.scan.rows]
        pane.apply_scan(data.Scanned(replace(last.scan, rows=rows), last.fetched))  # a poll in flight
        assert cell(pane, key, "rate") != "+0.4200%"  # kept, not drawn
        polls: list[bool] = []
        pane.refresh_data = lambda: polls.append(True)  # type: ignore[method-assign]
        await pilot.press("3")
        assert polls == [True]  # showing it polls at once ...
        assert cell(pane, key, "rate") == "+0.4200%"  # ... and draws what arrived while hidden
