"""One live refresh of the scanner's table with 500 perps: the UI thread's time.

A refresh is what the scanner pane does on the UI thread when a poll brings new rates (every 30 s by
default): filter and sort the rows (the domain's ``filter_rows``/``sort_rows``), turn each into its
cells (``scanner.columns.cells``), hand them to the table, then draw the visible lines (what the next
repaint costs). Each refresh moves 10% of the rates a little and ticks every countdown by a minute, as a
real 30 s poll does, so the sort order shifts.

Paths, same rows, same run, 33 visible rows (the pane shows 31 at 120x40):

- ``LiveTable.show``: only changed rows re-rendered, each row one cached strip (the pane's table);
- Textual's ``DataTable`` updated in place (``update_cell`` of the changed cells, ``sort`` by rank):
  style.md's advice, and the pane's first version;
- ``DataTable.clear()`` and ``add_rows`` of every row: the obvious way.

Runs rotate between the paths so noise hits each; best and median of ``--repeat``.

    python benchmarks/bench_scan_table.py [--perps 500] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.scroll_view import ScrollView
from textual.widgets import DataTable

from perptui.domain.scanner import ScanRow, filter_rows, sort_rows
from perptui.ui.panes.scanner.columns import SPECS, View, cells
from perptui.ui.widgets.live_table import Cell, ColumnSpec, LiveTable

NOW = 1_748_736_000_000
MINUTE = 60_000
GOAL_MS = 50.0


def make_rows(n: int, rng: random.Random) -> list[ScanRow]:
    rows = []
    for i in range(n):
        interval = rng.choice((1.0, 4.0, 8.0, 8.0, 8.0))
        rate = rng.gauss(0.0001, 0.0003) * interval / 8
        apr = rate * 24 * 365 / interval
        mean = apr + rng.gauss(0, 0.05)
        rows.append(
            ScanRow(
                exchange="binanceusdm", symbol=f"C{i:03d}/USDT:USDT", base=f"C{i:03d}", funding_rate=rate,
                interval_hours=interval, interval_inferred=False, rate_per_hour=rate / interval, apr=apr,
                predicted_rate=rate, next_funding_time=NOW + rng.randrange(1, 480) * MINUTE,
                mark=rng.uniform(0.01, 50_000), index=None, basis=rng.gauss(0, 0.0005),
                volume_24h_usd=rng.lognormvariate(17, 2), open_interest_usd=rng.lognormvariate(16, 2),
                mean_apr_7d=mean, mean_apr_30d=mean, mean_apr_90d=mean, std_apr_30d=abs(mean) + 0.01,
                pct_positive_30d=rng.random(), zscore_30d=rng.gauss(0, 1), longest_run_30d=rng.randrange(90),
                carry_direction="long_spot_short_perp" if mean >= 0 else "long_perp_short_spot",
                carry_net_apr=abs(mean) - 0.04, breakeven_days=rng.uniform(1, 90), taker_fee=0.0005,
                as_of=NOW,
            )
        )  # fmt: skip
    return rows


def next_poll(rows: list[ScanRow], rng: random.Random, minute: int) -> list[ScanRow]:
    """10% of the rates move a little; every countdown ticks a minute."""
    out = []
    for row in rows:
        if rng.random() < 0.10 and row.funding_rate is not None and row.interval_hours:
            rate = row.funding_rate + rng.gauss(0, 0.00002)
            row = replace(row, funding_rate=rate, apr=rate * 24 * 365 / row.interval_hours)
        out.append(replace(row, as_of=NOW + minute * MINUTE))
    return out


class Bench(App[None]):
    CSS = "LiveTable, DataTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield LiveTable(SPECS, id="live")
        yield DataTable(id="inplace", cursor_type="row", zebra_stripes=True, fixed_columns=1)
        yield DataTable(id="naive", cursor_type="row", zebra_stripes=True, fixed_columns=1)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            for spec in SPECS:
                table.add_column(spec.header, width=spec.width, key=spec.key)


def draw(table: ScrollView) -> None:
    """Render the lines the screen shows (what the repaint after a change costs)."""
    for y in range(table.size.height):
        table.render_line(y)


def ordered(rows: list[ScanRow], now: int) -> tuple[dict[str, tuple[Cell, ...]], list[str]]:
    shown = sort_rows(filter_rows(rows), "abs_apr", descending=True)
    view = View(now, 30.0)
    return {r.key: cells(r, view) for r in shown}, [r.key for r in shown]


def text(cell: Cell, spec: ColumnSpec) -> Text:
    value, _ = cell
    return Text(value.ljust(spec.width) if spec.left else value.rjust(spec.width))


def live_refresh(table: LiveTable, rows: list[ScanRow], now: int) -> None:
    data, order = ordered(rows, now)
    table.show(data, order)
    draw(table)


class InPlace:
    """A DataTable kept up to date with update_cell and re-sorted by rank (cursor kept by key)."""

    def __init__(self, table: DataTable) -> None:
        self.table = table
        self.shown: dict[str, tuple[Cell, ...]] = {}

    def refresh(self, rows: list[ScanRow], now: int) -> None:
        data, order = ordered(rows, now)
        table = self.table
        for key, cells_ in data.items():
            old = self.shown.get(key)
            if old is None:
                table.add_row(*(text(c, spec) for c, spec in zip(cells_, SPECS, strict=True)), key=key)
            else:
                for c, o, spec in zip(cells_, old, SPECS, strict=True):
                    if c != o:
                        table.update_cell(key, spec.key, text(c, spec))
            self.shown[key] = cells_
        # The perp's name is unique on one exchange: rank the rows by it (DataTable sorts by cell values).
        rank = {data[key][0][0]: i for i, key in enumerate(order)}
        table.sort(SPECS[0].key, key=lambda cell: rank[cell.plain.strip()])
        draw(table)


def naive_refresh(table: DataTable, rows: list[ScanRow], now: int) -> None:
    data, order = ordered(rows, now)
    table.clear()
    table.add_rows([[text(c, spec) for c, spec in zip(data[key], SPECS, strict=True)] for key in order])
    draw(table)


async def run(perps: int, repeat: int) -> None:
    rng = random.Random(7)
    rows = make_rows(perps, rng)
    app = Bench()
    async with app.run_test(size=(120, 100)) as pilot:
        live = app.query_one("#live", LiveTable)
        inplace = InPlace(app.query_one("#inplace", DataTable))
        naive = app.query_one("#naive", DataTable)
        paths: dict[str, Callable[[list[ScanRow], int], None]] = {
            "LiveTable.show": lambda r, now: live_refresh(live, r, now),
            "DataTable update_cell": inplace.refresh,
            "DataTable clear + add_rows": lambda r, now: naive_refresh(naive, r, now),
        }
        for path in paths.values():
            path(rows, NOW)
        live.action_cursor_to(12)
        await pilot.pause()
        heights = {t.id: t.size.height for t in (live, inplace.table, naive)}
        times: dict[str, list[float]] = {name: [] for name in paths}
        written = []
        names = list(paths)
        for k in range(1, repeat + 1):
            rows = next_poll(rows, rng, k)
            now = NOW + k * MINUTE
            for name in names[k % 3 :] + names[: k % 3]:
                start = time.perf_counter()
                paths[name](rows, now)
                times[name].append((time.perf_counter() - start) * 1000)
            written.append(live.last_written)
            await pilot.pause()
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"python {platform.python_version()}, textual {textual.__version__}, {platform.machine()}")
    cells_written = statistics.median(written)
    print(
        f"{perps} rows, {repeat} refreshes, heights {heights}; changed cells per refresh: {cells_written:.0f}"
    )
    print(f"{'path':<30}{'best ms':>10}{'median ms':>12}")
    for name, t in times.items():
        print(f"{name:<30}{min(t):>10.1f}{median[name]:>12.1f}")
    ours = median["LiveTable.show"]
    for name in names[1:]:
        print(f"ratio (median): {median[name] / ours:.1f}x faster than {name}")
    verdict = "met" if ours < GOAL_MS else "NOT met"
    print(f"goal: under {GOAL_MS:.0f} ms of UI time per refresh: {verdict} ({ours:.1f} ms median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--perps", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.perps, args.repeat))


if __name__ == "__main__":
    main()
