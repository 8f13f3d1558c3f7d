"""The scanner's side panel: the figures a trader reads, the hints, and a chart rebuilt only when the
history changes."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from perptui.domain.coverage import WindowCoverage
from perptui.domain.scanner import ScanRow
from perptui.ui.panes.scanner.detail import ScanDetail, y_ticks
from perptui.ui.widgets.stat import Stat
from tests.ui.helpers import sync

NOW = 1_748_736_000_000  # 2025-06-01T00:00Z
HOUR = 3_600_000
DAY = 24 * HOUR


def make_row(**changes: object) -> ScanRow:
    row = ScanRow(
        exchange="demo",
        symbol="BTCDEMO/USDT:USDT",
        base="BTCDEMO",
        funding_rate=0.0001,
        interval_hours=8.0,
        interval_inferred=False,
        rate_per_hour=0.0001 / 8,
        apr=0.1095,
        predicted_rate=-0.00005,
        next_funding_time=NOW + 3 * HOUR + 12 * 60_000,
        mark=104_250.5,
        index=104_200.1,
        basis=0.000484,
        volume_24h_usd=1.23e9,
        open_interest_usd=3.5e8,
        mean_apr_7d=0.123,
        mean_apr_30d=0.352,
        mean_apr_90d=-0.098,
        std_apr_30d=0.082,
        pct_positive_30d=0.87,
        zscore_30d=0.41,
        longest_run_30d=42,
        carry_direction="long_spot_short_perp",
        carry_net_apr=0.081,
        breakeven_days=12.3,
        taker_fee=0.0005,
        as_of=NOW,
        price_tick=0.1,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def prints(days: int = 90, rate: float = 0.0001, every_h: int = 8) -> list[tuple[int, float]]:
    start = NOW - days * DAY
    return [(start + k * every_h * HOUR, rate) for k in range(days * 24 // every_h)]


class DetailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ScanDetail(id="detail")

    @property
    def detail(self) -> ScanDetail:
        return self.query_one(ScanDetail)


def text(app: App[None], stat_id: str) -> str:
    return app.query_one(f"#detail-{stat_id}", Stat).text


def hint(app: App[None]) -> str | None:
    """The chart area's hint, or None when the chart shows instead."""
    found = app.query_one("#detail-hint", Static)
    return str(found.render()) if found.display else None


@sync
async def test_the_figures_read_like_the_cli() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(), prints(), NOW)
        await pilot.pause()
        assert app.detail.border_title == "BTCDEMO · demo"
        assert text(app, "rate") == "+0.0100%"
        assert text(app, "interval") == "8h"
        assert text(app, "apr") == "+10.9%"
        assert text(app, "predicted") == "-0.0050%"
        assert text(app, "next") == "3h12m"
        assert text(app, "prices") == "104,250.5 · 104,200.1"
        assert text(app, "basis") == "+0.048%"
        assert text(app, "size") == "$1.2B · $350.0M"
        assert [text(app, f"mean{d}") for d in (7, 30, 90)] == ["+12.3%", "+35.2%", "-9.8%"]
        assert text(app, "std30") == "8.2%"
        assert text(app, "positive30") == "87%"
        assert text(app, "z30") == "+0.4"
        assert text(app, "run30") == "42 prints"
        assert text(app, "legs") == "short perp + long spot"
        assert text(app, "net") == "+8.1%"
        assert text(app, "breakeven") == "12.3 days"


@sync
async def test_unknown_figures_show_a_dash() -> None:
    named = {"exchange", "symbol", "base", "interval_inferred", "as_of", "coverage"}  # coverage: none known
    unknown = {f.name: None for f in fields(ScanRow) if f.name not in named}
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(**unknown), [], NOW)
        await pilot.pause()
        ids = ["rate", "interval", "apr", "predicted", "next", "basis", "mean7", "mean30", "mean90"]
        ids += ["std30", "positive30", "z30", "run30", "legs", "net", "breakeven", "held"]
        assert {i: text(app, i) for i in ids} == dict.fromkeys(ids, "—")
        assert text(app, "prices") == "— · —"
        assert text(app, "size") == "— · —"


@sync
async def test_signed_figures_are_coloured_and_large_aprs_bold() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(apr=-0.45, mean_apr_7d=0.299, funding_rate=-0.0004), [], NOW)
        await pilot.pause()
        apr = app.query_one("#detail-apr", Stat)
        assert apr.has_class("-negative") and not apr.has_class("-positive")
        assert apr.has_class("-strong")
        assert apr.get_component_rich_style("stat--value").bold
        mean7 = app.query_one("#detail-mean7", Stat)
        assert mean7.has_class("-positive") and not mean7.has_class("-strong")
        assert not mean7.get_component_rich_style("stat--value").bold
        assert app.query_one("#detail-rate", Stat).has_class("-negative")
        assert not app.query_one("#detail-next", Stat).has_class("-positive")


@sync
async def test_the_countdown_follows_now_and_stops_at_zero() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        row = make_row(next_funding_time=NOW + 7 * HOUR + 59 * 60_000 + 59_000)
        app.detail.show(row, [], NOW)
        assert text(app, "next") == "7h59m"
        app.detail.show(row, [], NOW + 2 * HOUR)
        assert text(app, "next") == "5h59m"
        app.detail.show(row, [], NOW + 9 * HOUR)
        await pilot.pause()
        assert text(app, "next") == "0h00m"


@sync
async def test_an_interval_inferred_from_the_prints_is_marked() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(interval_hours=4.0, interval_inferred=True), [], NOW)
        await pilot.pause()
        stat = app.query_one("#detail-interval", Stat)
        assert stat.text == "4h~"
        assert "from prints" in stat.label
        app.detail.show(make_row(), [], NOW)
        assert stat.text == "8h" and stat.label == "interval"


@sync
async def test_figures_resting_on_an_incomplete_window_are_marked_and_the_prints_held_shown() -> None:
    """A 90-day window holding 100 of its 270 prints (OKX's newest page): the 90-day mean is marked, the
    30-day figures, whose window is whole, are not; the panel says how much of each window is held."""
    short = (WindowCoverage(7, 21, 21), WindowCoverage(30, 90, 90), WindowCoverage(90, 100, 270))
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(coverage=short), [], NOW)
        await pilot.pause()
        assert text(app, "held") == "100% · 100% · 37%"
        assert text(app, "mean90") == "-9.8%*"
        assert text(app, "mean30") == "+35.2%" and text(app, "net") == "+8.1%"
        whole = tuple(replace(w, prints=w.expected) for w in short)
        app.detail.show(make_row(coverage=whole), [], NOW)
        await pilot.pause()
        assert text(app, "mean90") == "-9.8%" and text(app, "held") == "100% · 100% · 100%"


@sync
async def test_carry_says_which_legs_and_when_it_never_breaks_even() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        row = make_row(carry_direction="long_perp_short_spot", carry_net_apr=-0.02, breakeven_days=None)
        app.detail.show(row, [], NOW)
        await pilot.pause()
        assert text(app, "legs") == "long perp + short spot (borrow)"
        assert text(app, "net") == "-2.0%"
        assert text(app, "breakeven") == "never"
        app.detail.show(make_row(), [], NOW)
        assert text(app, "legs") == "short perp + long spot"
        assert text(app, "breakeven") == "12.3 days"


@sync
async def test_nothing_selected_shows_only_a_hint() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(), prints(), NOW)
        await pilot.pause()
        assert not app.query_one("#detail-none").display
        app.detail.show(None, None, NOW)
        await pilot.pause()
        none = app.query_one("#detail-none", Static)
        assert none.display and str(none.render()) == "no perp selected"
        assert not app.query_one("#detail-body").display
        assert app.detail.border_title == "funding"


@sync
async def test_the_chart_area_says_when_the_history_is_loading_or_missing() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(), None, NOW)
        await pilot.pause()
        assert hint(app) == "loading the history…"
        assert app.detail.plot is None
        app.detail.show(make_row(), [], NOW)
        await pilot.pause()
        assert hint(app) == "no funding history cached yet: the scanner backfills it in the background"
        app.detail.show(make_row(), prints(), NOW)
        await pilot.pause()
        assert hint(app) is None
        assert app.detail.plot is not None and app.detail.plot.display
        assert app.detail.border_subtitle == "funding APR per print, 90d"
        app.detail.show(make_row(symbol="ETHDEMO/USDT:USDT"), None, NOW)
        await pilot.pause()
        assert hint(app) == "loading the history…" and not app.detail.plot.display


@sync
async def test_the_chart_is_rebuilt_only_when_the_history_or_the_perp_changes() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        history = prints()
        app.detail.show(make_row(), history, NOW)
        await pilot.pause()
        plot = app.detail.plot
        assert app.detail.redraws == 1
        # The table's refresh 30 s later: new figures, the same prints (even as a new list).
        app.detail.show(make_row(funding_rate=0.0002), list(history), NOW + 30_000)
        await pilot.pause()
        assert app.detail.redraws == 1
        assert text(app, "rate") == "+0.0200%"
        app.detail.show(make_row(), [*history, (NOW, 0.0003)], NOW + 30_000)
        await pilot.pause()
        assert app.detail.redraws == 2
        assert app.detail.plot is plot
        assert app.detail.chart_points[-1][1] == pytest.approx(0.0003 * 3 * 365 * 100)
        app.detail.show(make_row(symbol="ETHDEMO/USDT:USDT"), [*history, (NOW, 0.0003)], NOW + 30_000)
        await pilot.pause()
        assert app.detail.redraws == 3
        app.theme = "textual-light"  # the chart's colours come from the theme
        await pilot.pause()
        assert app.detail.redraws == 4


@sync
async def test_the_same_history_after_a_reload_shows_the_chart_again_without_a_rebuild() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        app.detail.show(make_row(), prints(), NOW)
        app.detail.show(make_row(), None, NOW)
        await pilot.pause()
        assert hint(app) == "loading the history…"
        app.detail.show(make_row(), prints(), NOW)
        await pilot.pause()
        assert hint(app) is None
        assert app.detail.plot is not None and app.detail.plot.display
        assert app.detail.redraws == 1


@sync
async def test_each_print_is_annualised_with_its_own_interval() -> None:
    app = DetailApp()
    async with app.run_test(size=(60, 40)) as pilot:
        # Two days of 8h prints, then a day of 1h prints: the same rate is 8x the APR on 1h.
        history = prints(3, 0.0001)[:6] + [(NOW - DAY + k * HOUR, 0.0001) for k in range(24)]
        app.detail.show(make_row(), history, NOW)
        await pilot.pause()
        aprs = [y for _, y in app.detail.chart_points]
        assert aprs[1] == pytest.approx(10.95)
        assert aprs[-1] == pytest.approx(87.6)
        assert app.detail.chart_points[0][0] == history[0][0] / 1000


def test_y_ticks_are_round_percentages() -> None:
    assert y_ticks(-10.0, 40.0) == (
        [-10.0, 0.0, 10.0, 20.0, 30.0, 40.0],
        ["-10%", "0%", "10%", "20%", "30%", "40%"],
    )
    assert y_ticks(0.0, 0.5)[1] == ["0%", "0.1%", "0.2%", "0.3%", "0.4%", "0.5%"]
