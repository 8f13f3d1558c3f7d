"""The plan pane plans the account it sits beside: the split set on the account pane and the account's
equity (a deposit) show on the plan without a restart; a split set on the plan becomes the account's;
a capital typed on the plan is a what-if kept until ``r`` follows the account again."""

from __future__ import annotations

import asyncio

from textual.widgets import Input

from perptui.ui.screenshots import open_plan
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from tests.ui.helpers import settle, sync, type_text, wait_for_screen
from tests.ui.test_allocation_pane import until_solved

SIZE = (120, 40)


async def account_equity(app) -> float:  # type: ignore[no-untyped-def]
    engine = await asyncio.to_thread(app.ctx.paper_engine)
    summary = await asyncio.to_thread(engine.account.summary, engine.marks)
    return float(summary.equity)


async def follow(pilot, pane) -> None:  # type: ignore[no-untyped-def]
    """One refresh of the shown pane, as its timer would start it."""
    pane.refresh_data()
    await until_solved(pilot, pane)


@sync
async def test_the_split_and_a_deposit_on_the_account_pane_show_on_the_plan(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")  # the account pane's split
        dialog = await wait_for_screen(pilot, FormDialog)
        neutral, directional = dialog.query(Input)
        neutral.value, directional.value = "45", "55"
        await pilot.press("enter", "enter")  # the next field, then done
        await settle(pilot)

        pane = await open_plan(pilot)
        assert pane.plan.config.neutral_pct == 45
        assert pane.plan.config.capital == await account_equity(app)

        await pilot.press("1", "d")
        await wait_for_screen(pilot, FormDialog)
        await type_text(pilot, "500")
        await pilot.press("enter")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("4")
        await follow(pilot, pane)
        equity = await account_equity(app)
        assert pane.plan.config.capital == equity and pane.plan.config.neutral_pct == 45


@sync
async def test_a_split_set_on_the_plan_becomes_the_accounts(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        await pilot.press("s")
        dialog = await wait_for_screen(pilot, FormDialog)
        dialog.query_one(Input).value = "60"
        await pilot.press("enter")
        await until_solved(pilot, pane)
        assert pane.plan.config.neutral_pct == 60
        summary = await asyncio.to_thread(app.ctx.account().summary)
        assert (summary.neutral_pct, summary.directional_pct) == (0.6, 0.4)


@sync
async def test_a_capital_typed_on_the_plan_holds_until_r(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        equity = await account_equity(app)
        await pilot.press("c")
        dialog = await wait_for_screen(pilot, FormDialog)
        dialog.query_one(Input).value = "2000"
        await pilot.press("enter")
        await until_solved(pilot, pane)
        assert pane.plan.config.capital == 2000
        await follow(pilot, pane)  # the account did not move the what-if
        assert pane.plan.config.capital == 2000
        await pilot.press("r")
        await until_solved(pilot, pane)
        assert pane.plan.config.capital == equity
