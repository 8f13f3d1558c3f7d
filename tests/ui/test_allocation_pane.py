"""The allocation pane (key 4) on the demo market: the plan's two layers from the paper account's equity,
settings changed from the keyboard (re-solved in a worker; bad input refused in the dialog), and the
trades sent to the paper account after a confirmation listing every order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from perptui.domain.plan import HybridPlan
from perptui.ui.screenshots import open_plan
from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
from perptui.ui.widgets.stat import Stat
from tests.cli_helpers import run_json
from tests.ui.helpers import settle, sync, wait_for_screen

SIZE = (120, 40)


async def until_solved(pilot, pane) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await settle(pilot)
        if not pane.solving:
            return
        await pilot.pause(0.05)
    raise TimeoutError("the plan was not solved")


async def type_setting(pilot, pane, key: str, text: str) -> FormDialog:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    dialog = await wait_for_screen(pilot, FormDialog)
    dialog.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()
    return dialog


@sync
async def test_the_plan_has_a_neutral_base_and_a_directional_layer(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        plan = pane.plan
        assert plan.neutral and plan.directional
        assert plan.config.capital == app.ctx.paper_engine().account.summary().equity
        keys = pane.table.keys_in_order()
        assert len(keys) == len(plan.neutral) + len(plan.directional)
        assert keys[0].startswith("neutral:")
        # The base holds spot and the opposite perp at equal notional, within one step of rounding.
        by_symbol: dict[str, dict[str, object]] = {}
        for leg in plan.neutral:
            by_symbol.setdefault(leg.symbol, {})[leg.leg] = leg
        for legs in by_symbol.values():
            spot, perp = legs["spot"], legs["perp"]
            assert spot.side != perp.side  # type: ignore[attr-defined]
        assert pane.query_one("#plan-return", Stat).text == f"{plan.expected_return * 100:.1f}% /yr"


@sync
async def test_settings_re_solve_and_bad_input_stays_in_the_dialog(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        dialog = await type_setting(pilot, pane, "s", "abc")
        assert "not a number" in dialog.error and app.screen is dialog
        await type_setting(pilot, pane, "s", "100")
        await until_solved(pilot, pane)
        assert pane.plan.config.neutral_pct == 100 and not pane.plan.directional
        assert all(key.startswith("neutral:") for key in pane.table.keys_in_order())
        before = pane.plan.config.objective
        await pilot.press("o")
        await until_solved(pilot, pane)
        assert pane.plan.config.objective != before


def recorded_toasts(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every toast raised from now on (a toast times out, 5 s, before a slow machine's solve ends)."""
    toasts: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        toasts.append(message)
        notify(message, **kwargs)

    app.notify = record
    return toasts


def carry_trades(plan: HybridPlan) -> list[Any]:
    """The spot buys of the plan's neutral base: each is sent as a pair."""
    return [t for t in plan.trades if t.leg == "spot" and t.side == "long"]


@sync
async def test_x_opens_each_carry_pair_as_a_pair_and_each_trend_leg_as_an_order(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        plan = pane.plan
        pairs = carry_trades(plan)
        assert pairs and [t for t in plan.trades if t.leg == "perp"]
        await pilot.press("x")
        lines = "\n".join((await wait_for_screen(pilot, ConfirmDialog)).lines)
        for t in pairs:  # one PAIR line each, the symbol without its settle suffix (all are USDT)
            assert any(f"{t.symbol.split(':')[0]} " in line and "PAIR" in line for line in lines.splitlines())
        assert "not sent" not in lines and "PAPER account only" in lines
        assert "cost: fees" in lines and "after: gross exposure" in lines
        toasts = recorded_toasts(app)
        await pilot.press("y")
        await until_solved(pilot, pane)
        engine = app.ctx.paper_engine()
        opened = {p.symbol: p.qty for p in engine.pairs()}
        assert opened == {t.symbol: t.qty for t in pairs}
        held = {h.symbol: h.qty for h in engine.spot_holdings()}
        for p in engine.pairs():  # both legs of every pair
            leg = engine.position(p.symbol)
            assert leg is not None and leg.side == "short" and leg.qty >= p.qty
            assert held[p.spot_symbol] == p.qty
        # no perp short of the neutral base without its spot leg
        neutral = {leg.symbol for leg in plan.neutral}
        for pos in engine.positions():
            if pos.symbol in neutral and pos.side == "short":
                assert pos.symbol in opened
        assert any("carry pairs" in m for m in toasts)


@sync
async def test_a_pair_whose_perp_leg_fails_leaves_nothing_open(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The perp leg refused after the confirmation (forced): the spot leg bought first is undone, the
    trader is told why, and no pair, spot or perp short of the base is left."""
    from perptui.domain.errors import UsageError
    from perptui.services.paper import carry

    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        pairs = carry_trades(pane.plan)
        assert pairs
        await pilot.press("x")
        await wait_for_screen(pilot, ConfirmDialog)
        place = carry.orders.place

        def refuse_pair_legs(*args: Any, pair_leg: bool = False, **kwargs: Any) -> Any:
            if pair_leg:
                raise UsageError("forced failure of the perp leg")
            return place(*args, pair_leg=pair_leg, **kwargs)

        monkeypatch.setattr(carry.orders, "place", refuse_pair_legs)
        toasts = recorded_toasts(app)
        await pilot.press("y")
        await until_solved(pilot, pane)
        engine = app.ctx.paper_engine()
        assert engine.pairs() == [] and engine.spot_holdings() == []
        assert not [p for p in engine.positions() if p.symbol in {t.symbol for t in pairs}]
        assert engine.spot_fills() == []
        refused = [m for m in toasts if "forced failure of the perp leg" in m]
        assert len(refused) == len(pairs) and all("the spot leg was undone" in m for m in refused)


def test_perptui_allocate_gives_the_panes_numbers(
    make_app, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same demo market, clock and capital: the CLI's plan is the pane's, leg for leg."""

    plans: list[HybridPlan] = []

    @sync
    async def pane_plan() -> None:
        app = make_app(history=True)
        async with app.run_test(size=SIZE) as pilot:
            plans.append((await open_plan(pilot)).plan)

    pane_plan()
    [plan] = plans
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    data = run_json(capsys, "allocate", "--capital", repr(plan.config.capital), "--json")
    for layer in ("neutral", "directional"):
        shown = [(leg["symbol"], leg["leg"], leg["side"], leg["qty"]) for leg in data[layer]]
        assert shown == [(leg.symbol, leg.leg, leg.side, leg.qty) for leg in getattr(plan, layer)]
    assert data["expected_return"] == pytest.approx(plan.expected_return, rel=1e-9)
    assert data["volatility"] == pytest.approx(plan.volatility, rel=1e-9)
    assert data["funding_per_day"] == pytest.approx(plan.funding_per_day, rel=1e-9)
