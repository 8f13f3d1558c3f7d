"""Keyboard flows, driven with Pilot on the demo market."""

from __future__ import annotations

import pytest

from perptui.presentation.numbers import MASK
from perptui.ui.screens.help import HelpScreen
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from tests.ui.helpers import settle, stat, sync, type_text

SIZE = (120, 40)


async def _flows(app) -> int:
    account = app.ctx.account()
    return len(account.cash_flows())


@sync
async def test_opens_on_the_account_pane_with_the_paper_account(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_pane == "account"
        assert app.focused is app.pane("account")
        assert stat(pilot, "equity") == "5,000.00 USDT"
        assert stat(pilot, "risk_budget") == "50.00 USDT"
        assert stat(pilot, "neutral_capital") == "3,500.00 USDT"
        assert str(app.query_one("#badge").content).strip() == "DEMO"
        assert "live" in str(app.query_one("#link").content)
        assert "2025-06-01 00:00:00 UTC" in str(app.query_one("#clock").content)


@sync
async def test_number_key_and_palette_switch_panes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("1")
        assert app.current_pane == "account"
        await pilot.press("ctrl+p")
        await type_text(pilot, "account pane")
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_pane == "account" and app.pane().active
        await pilot.press("ctrl+p")
        await type_text(pilot, "privacy")
        await pilot.press("enter")
        await pilot.pause()
        assert app.privacy


@sync
async def test_deposit_with_confirmation_changes_the_ledger(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = await _flows(app)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "1,250.50")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        shown = " ".join(app.screen.lines)
        assert "1,250.50 USDT" in shown and "6,250.50 USDT" in shown
        await pilot.press("y")
        await settle(pilot)
        assert await _flows(app) == before + 1
        assert stat(pilot, "wallet_balance") == "6,250.50 USDT"


@sync
async def test_withdraw_with_confirmation_and_declining_records_nothing(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = await _flows(app)
        for answer in ("n", "y"):
            await pilot.press("w")
            await type_text(pilot, "400")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            assert "4,600.00 USDT" in " ".join(app.screen.lines)
            await pilot.press(answer)
            await settle(pilot)
        assert await _flows(app) == before + 1
        assert stat(pilot, "free_margin") == "4,600.00 USDT"


@pytest.mark.parametrize(
    ("key", "text", "error"),
    [
        ("d", "-5", "'-5' must be above 0"),
        ("d", "0", "'0' must be above 0"),
        ("d", "abc", "'abc' is not a number (e.g. 250 or 1,000.50)"),
        ("d", "0.000001", "'0.000001' is below the smallest accepted amount 0.01 USDT"),
        ("d", "1e15", "'1e15' is above the largest accepted amount 1,000,000,000 USDT"),
        ("d", "1,500", "'1,500' is ambiguous"),
        ("w", "9000", "more than the free margin"),
    ],
)
@sync
async def test_bad_amount_shows_an_inline_error_and_records_nothing(make_app, key, text, error) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = await _flows(app)
        await pilot.press(key)
        await type_text(pilot, text)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, FormDialog) and error in dialog.error
        await pilot.press("escape")
        await settle(pilot)
        assert await _flows(app) == before
        assert stat(pilot, "wallet_balance") == "5,000.00 USDT"


@sync
async def test_split_must_make_100_percent(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s", "ctrl+u")
        await type_text(pilot, "60")
        await pilot.press("enter", "ctrl+u")
        await type_text(pilot, "30")
        await pilot.press("enter")
        await pilot.pause()
        assert "must make 100%" in app.screen.error
        await pilot.press("ctrl+u")
        await type_text(pilot, "40")
        await pilot.press("enter")
        await settle(pilot)
        assert stat(pilot, "neutral_pct") == "60.00%" and stat(pilot, "directional_pct") == "40.00%"


@sync
async def test_risk_pct_is_edited_and_persisted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r", "ctrl+u")
        await type_text(pilot, "1.5")
        await pilot.press("enter")
        await settle(pilot)
        assert stat(pilot, "risk_budget") == "75.00 USDT"
        assert app.ctx.account().summary().risk_pct == pytest.approx(0.015)


@sync
async def test_privacy_masks_every_amount(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        from perptui.ui.widgets.stat import Stat

        money = [s for s in app.query(Stat) if s.kind == "money" and s.value is not None]
        assert money and all(MASK in s.text and not any(c.isdigit() for c in s.text) for s in money)
        await pilot.press("p")
        await pilot.pause()
        assert stat(pilot, "equity") == "6,350.00 USDT"


@sync
async def test_help_lists_the_pane_and_global_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            ids = {(r.section, r.binding_id) for r in app.screen.rows}
            assert {("Account", "deposit"), ("Account", "range_next"), ("global", "quit")} <= ids
            assert {("global", "privacy"), ("global", "pane_account"), ("global", "help")} <= ids
            await pilot.press("j", "k", "escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)


@sync
async def test_theme_toggles_and_q_quits(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@sync
async def test_chart_ranges_cycle(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        chart = app.query_one("#equity-chart")
        assert chart.range_name == "1M"
        await pilot.press("]")
        assert chart.range_name == "ALL"
        await pilot.press("]", "]")
        assert chart.range_name == "1W"
        await pilot.press("[")
        assert chart.range_name == "1D"
