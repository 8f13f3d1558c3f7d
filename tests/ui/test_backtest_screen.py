"""The backtest results view on the seeded demo market (clock frozen at 2025-06-01): opened from the
allocation pane with the plan's settings and capital, run in a worker with a progress bar, the metrics,
charts, stress windows and Monte Carlo filled; settings changed from the keyboard re-run it (bad input
refused in the dialog); the ledgers exported as CSV; escape goes back to the plan."""

from __future__ import annotations

import csv
import itertools
import math
import threading
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from textual.widgets import Input, ProgressBar

from perptui.domain.errors import UsageError
from perptui.domain.plan import PlanConfig
from perptui.domain.timeframes import parse_utc
from perptui.ui.screens.backtest import BacktestScreen, edits
from perptui.ui.screens.backtest.messages import Progressed
from perptui.ui.screens.backtest.progress import RunProgress
from perptui.ui.screens.backtest.setup import setup_from_plan
from perptui.ui.screenshots import open_backtest, open_plan
from perptui.ui.widgets.backtest_charts import CurvesChart, FanChart, nice_ticks
from perptui.ui.widgets.dialogs import FormDialog
from tests.ui.helpers import notifications, settle, sync, wait_for_screen

SIZE = (120, 40)
NOW = parse_utc("2025-06-01")
#: 120 days of 8h bars: quick on the demo market.
SHORT = ("2025-02-01", "2025-06-01")


async def until_run(pilot, screen: BacktestScreen) -> None:  # type: ignore[no-untyped-def]
    for _ in range(600):
        await settle(pilot)
        if not screen.running:
            return
        await pilot.pause(0.05)
    raise TimeoutError("the backtest did not finish")


async def type_fields(pilot, key: str, texts: list[str]) -> FormDialog:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    dialog = await wait_for_screen(pilot, FormDialog)
    for field, text in zip(dialog.query(Input), texts, strict=True):
        field.value = text
    dialog.query(Input).last().focus()
    await pilot.press("enter")
    await pilot.pause()
    return dialog


def text_of(screen: BacktestScreen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}").render())


def progress_in_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the run's worker wait, after posting each progress message, until the screen has handled it.

    A progress message replaces an older one still queued (a busy UI skips to the newest), so without
    this which steps reach the bar depends on how fast the UI thread runs next to the worker."""
    handled = threading.Semaphore(0)
    post_message, on_progressed = BacktestScreen.post_message, BacktestScreen.on_progressed

    def post_and_wait(self: BacktestScreen, message) -> bool:  # type: ignore[no-untyped-def]
        posted = post_message(self, message)
        if isinstance(message, Progressed) and threading.current_thread() is not threading.main_thread():
            assert handled.acquire(timeout=120), "the screen never handled a progress message"
        return posted

    def handle_then_release(self: BacktestScreen, message: Progressed) -> None:
        try:
            on_progressed(self, message)
        finally:
            handled.release()

    monkeypatch.setattr(BacktestScreen, "post_message", post_and_wait)
    monkeypatch.setattr(BacktestScreen, "on_progressed", handle_then_release)


@sync
async def test_b_runs_the_plan_and_fills_the_view(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int | None, str, bool]] = []
    show_progress = RunProgress.show

    def spy(self: RunProgress, done: int, total: int | None, label: str) -> None:
        seen.append((done, total, label, self.has_class("-running")))
        show_progress(self, done, total, label)

    monkeypatch.setattr(RunProgress, "show", spy)
    progress_in_step(monkeypatch)
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_plan(pilot)
        await pilot.press("B")
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        # On the plan's capital and settings, over the default span.
        assert screen.setup.capital == pane.plan.config.capital and screen.setup.strategy == "hybrid"
        assert screen.setup.plan == pane.plan.config
        await until_run(pilot, screen)
        seen.clear()
        await type_fields(pilot, "d", list(SHORT))
        await until_run(pilot, screen)
        shown = screen.shown
        assert shown is not None and screen.error is None
        assert shown.setup.since_ms == parse_utc(SHORT[0]) and shown.setup.until_ms == parse_utc(SHORT[1])
        result = shown.report.result
        assert int(result.times[0]) >= parse_utc(SHORT[0]) and int(result.times[-1]) <= parse_utc(SHORT[1])
        assert screen.title == "Backtest · hybrid"
        # The progress bar showed every step, in order (the worker waits for each to be drawn): each
        # symbol's history, then the run's stages; the bar stayed up until the run ended, then left.
        n = len(result.symbols)
        assert seen[0][:2] == (0, None) and all(shown for *_, shown in seen[1:])
        assert {total for _, total, *_ in seen[1:]} == {n + 2}
        steps = [(done, label) for done, _, label, _ in seen[1:]]
        assert [done for done, _ in steps[:n]] == list(range(n))
        assert all(
            label.startswith("loading the history: ") and label.endswith(f" ({i + 1}/{n})")
            for i, (_, label) in enumerate(steps[:n])
        ), steps
        stages = [step for i, step in enumerate(steps[n:]) if i == 0 or step != steps[n + i - 1]]
        assert stages == [
            (n, "history loaded"),
            (n, f"running the hybrid backtest on {n} symbols…"),
            (n + 1, f"stress windows, Monte Carlo of {shown.setup.paths:,} paths…"),
            (n + 2, "drawing…"),
        ], stages
        bar = screen.query_one(ProgressBar)
        assert bar.total == n + 2 and bar.progress == bar.total
        assert not screen.query_one("#bt-progress").has_class("-running")
        # The metrics: each layer then the total, unknowns as an em dash, never "None" or "nan".
        layers = [layer.name for layer in result.layers]
        assert len(layers) == 2
        metrics = text_of(screen, "bt-metrics")
        lines = metrics.splitlines()
        assert [line.split()[0] for line in lines[1:]] == [*layers, "total"]
        for head in (
            "return",
            "CAGR",
            "Sharpe",
            "Sortino",
            "max DD",
            "Calmar",
            "funding",
            "fees",
            "turnover",
        ):
            assert head in lines[0]
        assert "None" not in metrics and "nan" not in metrics
        assert f"{shown.report.metrics.total_return * 100:.1f}%" in lines[-1]
        # Charts drawn: the return and drawdown of each layer and the total, and the fan.
        equity = screen.query_one("#bt-equity", CurvesChart)
        assert equity.plot is not None and equity.plot.display
        assert [c.name for c in shown.equity] == [*layers, "total"]
        assert [c.name for c in shown.drawdown] == [*layers, "total"]
        assert all(0 <= y <= 1 for c in shown.drawdown for _, y in c.points)
        assert screen.query_one("#bt-fan", FanChart).plot is not None
        assert [c.name for c in shown.fan] == ["p5", "p25", "p50", "p75", "p95"]
        mc = text_of(screen, "bt-mc")
        assert "P(loss)" in mc and "P(drawdown ≥ 15%)" in mc
        stress = text_of(screen, "bt-stress")
        assert "may_2021" in stress and "outside the run" in stress
        notes = text_of(screen, "bt-notes")
        liquidations = sum(layer.liquidations for layer in result.layers)
        assert "reconciled" in notes
        assert f" {liquidations} liquidation{'' if liquidations == 1 else 's'}" in notes
        assert (" 1 liquidations" not in notes) and (f"{len(result.fills.time):,} fills" in notes)


@sync
async def test_a_newer_run_replaces_the_one_under_way(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_backtest(pilot, SHORT)
        first = screen.setup.next_timeframe()  # 1d bars
        second = first.next_strategy()
        screen.change(first)
        replaced = screen._worker
        screen.change(second)
        await until_run(pilot, screen)
        assert replaced is not None and replaced.is_cancelled
        assert screen.shown.setup == second and screen.shown.report.result.strategy == "carry"
        assert screen.shown.report.result.timeframe == "1d"


@sync
async def test_cycling_the_strategy_runs_again_with_its_layers(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_backtest(pilot, SHORT)
        await pilot.press("s")
        await until_run(pilot, screen)
        result = screen.shown.report.result
        assert screen.setup.strategy == result.strategy == "carry" and screen.title == "Backtest · carry"
        assert len(result.layers) == 1
        # One layer: its row is the total.
        assert [line.split()[0] for line in text_of(screen, "bt-metrics").splitlines()[1:]] == ["total"]
        await pilot.press("s")
        await until_run(pilot, screen)
        assert screen.shown.report.result.strategy == "trend"
        assert screen.shown.report.result.symbols  # no spot legs needed, still the busiest perps


@sync
async def test_bad_input_is_refused_in_the_dialog_and_changes_nothing(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_backtest(pilot, SHORT)
        before, shown = screen.setup, screen.shown
        dialog = await type_fields(pilot, "d", ["2025-13-01", "2025-06-01"])
        assert app.screen is dialog and dialog.error.count("\n") == 0
        assert "from date" in dialog.error and "2024-01-31" in dialog.error
        dialog.query(Input).first().value = "2025-07-01"
        await pilot.press("enter")
        await pilot.pause()
        assert "at least 2 days before" in dialog.error
        await pilot.press("escape")
        await settle(pilot)
        assert screen.setup == before and screen.shown is shown and not screen.running
        dialog = await type_fields(pilot, "c", ["-5"])
        assert "above 0" in dialog.error
        await pilot.press("escape")
        dialog = await type_fields(pilot, "c", ["12,500"])
        assert "'12,500' is ambiguous" in dialog.error  # 12500 or 12.5: never guessed
        await pilot.press("escape")
        dialog = await type_fields(pilot, "m", ["lots"])
        assert "'lots' is not a number" in dialog.error
        await pilot.press("escape")
        dialog = await type_fields(pilot, "m", ["2.5"])
        assert "'2.5' is not a whole number" in dialog.error
        await pilot.press("escape")
        await settle(pilot)
        assert screen.setup == before and screen.shown is shown


@sync
async def test_a_typed_capital_and_window_run_again(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_backtest(pilot, SHORT)
        await type_fields(pilot, "c", ["12,500.00"])
        await until_run(pilot, screen)
        assert screen.shown.report.result.capital == 12_500
        await type_fields(pilot, "w", ["2025-03-01:2025-03-10"])
        await until_run(pilot, screen)
        assert "your window    2025-03-01 → 2025-03-10" in text_of(screen, "bt-stress")
        row = screen.shown.report.stress[-1]
        assert row.total is not None and row.note is None


@sync
async def test_export_writes_the_three_ledgers(make_app, tmp_path: Path) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_backtest(pilot, SHORT)
        await pilot.press("e")
        dialog = await wait_for_screen(pilot, FormDialog)
        default = dialog.query_one(Input).value
        assert "/backtests/hybrid-20250601-000000" in default  # the frozen clock's UTC stamp
        dialog.query_one(Input).value = str(tmp_path / "ledgers")
        await pilot.press("enter")
        await settle(pilot)
        names = sorted(p.name for p in (tmp_path / "ledgers").iterdir())
        assert names == ["equity.csv", "fills.csv", "funding.csv"]
        with open(tmp_path / "ledgers" / "equity.csv", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        final = screen.shown.report.result.equity[-1]
        assert math.isclose(float(rows[-1][1]), final, rel_tol=1e-12)
        assert any(str(tmp_path / "ledgers" / "fills.csv") in m for m in notifications(pilot))
        # A folder that cannot be made: one line, no traceback.
        blocker = tmp_path / "file"
        blocker.write_text("x")
        await pilot.press("e")
        dialog = await wait_for_screen(pilot, FormDialog)
        dialog.query_one(Input).value = str(blocker / "ledgers")
        await pilot.press("enter")
        await settle(pilot)
        error = notifications(pilot)[-1]
        assert "cannot write the ledgers" in error and "\n" not in error


@sync
async def test_an_error_is_one_line_and_escape_goes_back_to_the_plan(make_app) -> None:
    """Offline with an empty cache there is no history: a one-line notification, then back to the plan."""
    app = make_app(history=True, config={"offline": True})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("B")
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        await until_run(pilot, screen)
        assert screen.shown is None and screen.error is not None and "\n" not in screen.error
        assert "Traceback" not in screen.error and screen.error in notifications(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BacktestScreen) and app.pane().id == "allocation"
        # A pane key over the view goes to that pane, not to one hidden underneath it.
        await pilot.press("B")
        assert isinstance(app.screen, BacktestScreen)
        await until_run(pilot, app.screen)
        await pilot.press("5")
        await pilot.pause()
        assert not isinstance(app.screen, BacktestScreen) and app.pane().id == "risk"


# --- the pure parts ---------------------------------------------------------------------------------


def test_the_plan_settings_the_backtest_takes() -> None:
    config = PlanConfig(
        capital=9_000, neutral_pct=55, neutral_count=3, objective="max_sharpe", lookback_days=90
    )
    setup = setup_from_plan(config, config.capital, NOW + 5 * 3_600_000, 0.15)
    params = setup.params()
    assert (params.neutral_pct, params.top_n, params.objective) == (55, 3, "max_sharpe")
    assert params.lookback_days == params.cov_lookback_days == 90
    assert params.slippage != config.slippage  # per fill here, per round trip in the plan
    # The last closed 8h bar; four years back from 2025-06-01 would start after May 2021, so 2021-01-01.
    assert (setup.until_ms, setup.since_ms) == (NOW, parse_utc("2021-01-01"))
    assert (
        setup.next_strategy().strategy == "carry"
        and setup.next_strategy().next_strategy().strategy == "trend"
    )
    assert setup.next_timeframe().timeframe == "1d"


def test_the_dialogs_refuse_bad_input_with_one_line() -> None:
    assert edits.parse_span(["2025-01-01", ""], NOW) == (parse_utc("2025-01-01"), NOW)
    for texts, match in (
        (["2025-05-31", "2025-06-01"], "at least 2 days"),
        (["2025-01-01", "2026-01-01"], "in the future"),
        (["yesterday", "2025-06-01"], "bad from date"),
    ):
        with pytest.raises(UsageError, match=match):
            edits.parse_span(texts, NOW)
    assert edits.parse_capital(" 10,000 ") == 10_000
    for text in ("0", "nan", "inf", "ten"):
        with pytest.raises(UsageError):
            edits.parse_capital(text)
    assert edits.parse_paths("0") == 0 and edits.parse_paths("2,000") == 2000
    with pytest.raises(UsageError):
        edits.parse_paths("-1")
    assert edits.parse_window("") == ()
    with pytest.raises(UsageError, match="before the first"):
        edits.parse_window("2025-03-10:2025-03-01")


@given(st.floats(-1e6, 1e6), st.floats(1e-6, 1e6))
def test_chart_ticks_are_round_evenly_spaced_and_inside(lo: float, span: float) -> None:
    assume(span > 1e-6 * max(1.0, abs(lo)))  # a chart's range is never below float noise of its level
    hi = lo + span
    ticks, decimals = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 5
    tolerance = span * 1e-6
    assert all(lo - tolerance <= t <= hi + tolerance for t in ticks)
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(steps) - min(steps) <= tolerance
    assert 0 <= decimals <= 12


@sync
async def test_the_keys_are_remapped_by_their_ids(make_app) -> None:
    app = make_app(history=True, config={"keymap": {"plan_backtest": "T", "bt_close": "x"}})
    async with app.run_test(size=SIZE) as pilot:
        await open_plan(pilot)
        await pilot.press("B")
        await pilot.pause()
        assert not isinstance(app.screen, BacktestScreen)
        await pilot.press("T")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        await until_run(pilot, screen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, BacktestScreen)
