"""`perptui backtest`: run the carry base, the trend layer or the hybrid over history and report.

History comes from the cache; online, what the cache lacks for the span is fetched first (the demo
market or the configured exchange); with --offline, or when the exchange is unreachable, the cache
alone (a note on stderr says so). Capital: ``--capital``, else ``paper.starting_capital``. Settings:
``--param KEY=VALUE`` over the defaults (see the README's table). ``--grid`` sweeps parameter sets
across processes (a progress bar on stderr); with ``--walk-forward`` they are re-chosen on rolling
in-sample windows and applied out of sample. ``--json`` prints ``BacktestReport.as_dict()``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from typing import TYPE_CHECKING, Any

from perptui.domain.errors import UsageError

from .context import open_store, settings_from_args
from .output import err, out, print_json, say
from .parser import DEFAULT_COMBINATIONS, MAX_COMBINATIONS

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.backtest.metrics import Metrics
    from perptui.services.backtest import BacktestReport, BacktestRequest
    from perptui.services.clock import Clock


def _span(args: argparse.Namespace, now: int, timeframe: str) -> tuple[int, int]:
    from perptui.domain.backtest.span import default_span
    from perptui.domain.timeframes import parse_utc

    until = parse_utc(args.until, "--to date") if args.until else default_span(now, timeframe)[1]
    since = parse_utc(args.since, "--from date") if args.since else default_span(until, timeframe)[0]
    if since >= until:
        raise UsageError(f"--from ({args.since or 'default'}) must be before --to ({args.until or 'now'})")
    return since, until


def build_request(args: argparse.Namespace, capital: float, drawdown_limit: float | None) -> BacktestRequest:
    from perptui.domain.backtest.params import parse_params
    from perptui.services.backtest import BacktestRequest

    if not (math.isfinite(capital) and capital > 0):
        raise UsageError(f"--capital must be an amount above 0, not {capital:g}")
    if args.walk_forward and not args.grid:
        raise UsageError("--walk-forward needs --grid KEY=V1,V2 (the parameter sets it re-chooses between)")
    check_work_flags(args)
    try:
        params = parse_params(args.param)
    except UsageError as exc:
        raise UsageError(f"--param: {exc}") from None
    return BacktestRequest(
        strategy=args.strategy,
        capital=capital,
        params=params,
        grid=tuple(args.grid),
        walk_forward=args.walk_forward,
        in_sample_days=args.in_sample_days,
        out_of_sample_days=args.out_of_sample_days,
        monte_carlo=args.monte_carlo,
        seed=args.seed,
        scenarios=args.scenarios,
        stress=tuple(args.stress),
        drawdown_limit=drawdown_limit,
        workers=args.workers,
    )


def check_work_flags(args: argparse.Namespace) -> None:
    """Refuse a sweep that would run for hours, a grid value the backtest cannot use, or more processes
    than the machine can use, before anything is read."""
    import os

    from perptui.presentation.parse_args import check_work, grid_size

    limit = getattr(args, "max_combinations", None) or DEFAULT_COMBINATIONS
    check_work(
        "--grid",
        grid_size(args.grid),
        limit,
        f"narrow the grid, or raise the limit with --max-combinations N (at most {MAX_COMBINATIONS:,})",
    )
    from perptui.domain.backtest.grid import parse_grid
    from perptui.domain.backtest.params import parse_pair

    try:
        for key, values in parse_grid(args.grid).items():  # every value read now, not after the history loads
            for value in values:
                parse_pair(f"{key}={value}")
    except UsageError as exc:
        raise UsageError(f"--grid: {exc}") from None
    cores = os.cpu_count() or 1
    if args.workers is not None and args.workers > 4 * cores:
        raise UsageError(
            f"--workers {args.workers:,} is above the limit of {4 * cores} (4 per core; this machine has "
            f"{cores}): more processes only slow a sweep down"
        )


def run(args: argparse.Namespace) -> int:
    from perptui.services.backtest import stress_windows
    from perptui.services.sources import clock_for

    settings = settings_from_args(args)
    capital = args.capital if args.capital is not None else settings.paper.starting_capital
    request = build_request(args, capital, settings.risk.max_drawdown_pct / 100 or None)
    stress_windows(request.stress)  # bad windows fail before any fetch
    clock = clock_for(settings)
    span = _span(args, clock.now_ms(), args.timeframe)
    if args.ledger is None:
        report = _report(args, settings, clock, span, request)
    else:
        from perptui.services.backtest_ledger import ledger_folder, write_ledgers

        with ledger_folder(args.ledger) as folder:  # an unwritable folder is refused now, not after the run
            report = _report(args, settings, clock, span, request)
            paths = write_ledgers(report.result, folder)
        err().print(f"ledgers written: {', '.join(str(p) for p in paths)}", markup=False, highlight=False)
    if args.json:
        print_json(report.as_dict())
    else:
        render(report, settings.exchange_name)
    return 0


def _report(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    span: tuple[int, int],
    request: BacktestRequest,
) -> BacktestReport:
    """Load the history (fetching what the cache lacks when online) and run the request over it."""
    from perptui.services.backtest import run_report
    from perptui.services.backtest_data import load_history
    from perptui.services.sources import open_market_data

    with open_store(settings) as store:

        async def gather():
            source = None if settings.offline else open_market_data(settings, store, clock)
            try:
                return await load_history(
                    source, store, settings.exchange_name, args.symbols, args.timeframe, span, clock,
                    spot=args.strategy != "trend",
                )  # fmt: skip
            finally:
                if source is not None:
                    await source.close()

        history = asyncio.run(gather())
    request = _with_span(request, span)
    if args.scenarios:
        request = _with_paper_book(request, settings, clock, history)
    bar = request.grid and not args.json
    report = _with_bar(history, request) if bar else run_report(history, request)
    for line in report.notes:
        err().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)
    return report


def _with_span(request: BacktestRequest, span: tuple[int, int]) -> BacktestRequest:
    import dataclasses

    return dataclasses.replace(request, start_ms=span[0], end_ms=span[1])


def _with_paper_book(request: BacktestRequest, settings, clock, history) -> BacktestRequest:
    """The scenarios' book: the paper account's positions on this exchange at the history's last close
    (none open: the backtest's final book)."""
    import dataclasses

    import numpy as np

    from perptui.services.accounts import paper_account

    with open_store(settings) as store:
        account = paper_account(settings, store, clock)
        if store.load_account(account.name) is None:
            return request
        positions = [p for p in account.positions() if p.exchange == settings.exchange_name]
        equity = account.summary().equity
    column = {s: j for j, s in enumerate(history.symbols)}
    book: dict[str, float] = {}
    for p in positions:
        closes = history.close[:, column[p.symbol]] if p.symbol in column else np.array([])
        known = closes[np.isfinite(closes)]
        price = float(known[-1]) if len(known) else p.entry
        book[p.symbol] = book.get(p.symbol, 0.0) + (1 if p.side == "long" else -1) * p.qty * price
    if not book:
        return request
    return dataclasses.replace(request, book=book, book_equity=equity if equity > 0 else None)  # type: ignore[operator]  # a paper account always knows its equity


def _with_bar(history, request: BacktestRequest) -> BacktestReport:
    from perptui.domain.backtest.grid import expand_grid, parse_grid
    from perptui.services.backtest import run_report
    from perptui.services.backtest_sweep import with_progress_bar

    sets = len(expand_grid(parse_grid(list(request.grid))))
    what = "walk-forward" if request.walk_forward else "sweep"
    with with_progress_bar(sets, what) as tick:

        def progress(done: int, total: int, label: str) -> None:
            if label != "backtest":
                tick(done, total)

        return run_report(history, request, progress)


# --- the tables ------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _num(x: float | None, spec: str = ",.2f") -> str:
    return "—" if x is None else format(x, spec)


def _metrics_table(report: BacktestReport):
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, title_justify="left")
    heads = ("", "return", "CAGR", "vol", "Sharpe", "Sortino", "max DD", "Calmar", "price PnL", "funding",
             "fees", "turnover")  # fmt: skip
    for i, h in enumerate(heads):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)

    def row(name: str, m: Metrics, style: str = "") -> None:
        table.add_row(
            name, _pct(m.total_return), _pct(m.cagr), _pct(m.volatility), _num(m.sharpe), _num(m.sortino),
            _pct(m.max_drawdown), _num(m.calmar), _num(m.price_pnl), _num(m.funding_pnl), _num(m.fees),
            _num(m.turnover, ".1f"), style=style,
        )  # fmt: skip

    if len(report.layers) > 1:
        for name, m in report.layers.items():
            row(name, m)
    row("total", report.metrics, "bold")
    return table


def _stress_table(report: BacktestReport):
    from rich import box
    from rich.table import Table

    table = Table(title="stress windows", box=box.SIMPLE_HEAD, header_style="bold", title_justify="left")
    for i, h in enumerate(("window", "dates", "return", "max DD", "worst day", "funding", "fees", "")):
        table.add_column(h, justify="left" if i in (0, 1, 7) else "right", no_wrap=i < 7)
    for row in report.stress:
        d: dict[str, Any] = row.as_dict()
        total = d.get("total") or {}
        dates = f"{d.get('first_date')} .. {d.get('last_date')}"
        table.add_row(
            str(d.get("name")), dates, _pct(total.get("total_return")),
            _pct(total.get("max_drawdown")), _pct(total.get("worst_day")), _num(total.get("funding_pnl")),
            _num(total.get("fees")), str(d.get("note") or ""),
        )  # fmt: skip
    return table


def render(report: BacktestReport, exchange: str) -> None:
    from rich.console import Console

    r = report.result
    console = out()
    if not console.is_terminal:
        console = Console(width=max(console.width, 130), highlight=False, file=console.file)
    d = report.as_dict()
    say(
        f"{r.strategy} backtest on {exchange}, {r.timeframe} bars, {d['from']} .. {d['to']}, "
        f"{len(r.symbols)} symbols: capital {r.capital:,.2f} -> {float(r.equity[-1]):,.2f}"
    )
    console.print(_metrics_table(report))
    say(
        f"reconciled: final equity = capital {r.capital:,.2f} + price PnL {r.price_pnl:,.2f} + funding "
        f"{r.funding_pnl:,.2f} - fees {r.fees:,.2f} (off by {report.reconcile_error:.1e}); "
        f"{d['trades']} fills, {d['liquidations']} liquidations"
    )
    console.print(_stress_table(report))
    if report.sweep is not None:
        say("sweep (whole run):")
        for row in sorted(report.sweep, key=lambda s: -(s.metrics.sharpe or -math.inf)):
            m = row.metrics
            say(f"  {row.as_dict()['label']:40} return {_pct(m.total_return)}  Sharpe {_num(m.sharpe)}  "
                f"max DD {_pct(m.max_drawdown)}")  # fmt: skip
    if report.walk_forward is not None:
        wf = report.walk_forward
        say(
            f"walk-forward: in-sample Sharpe {_num(wf.in_sample_sharpe)}, out-of-sample "
            f"{_num(wf.out_of_sample_sharpe)}, out-of-sample return {_pct(wf.out_of_sample.total_return)}"
        )
        wf_dict: dict[str, Any] = wf.as_dict()
        for fold in wf_dict["folds"]:
            say(f"  {fold}")
        if wf.overfit_warning:
            say(f"warning: {wf.overfit_warning}")
    if report.scenarios is not None:
        say(f"scenarios on {report.scenario_source}:")
        for sc in report.scenarios:
            s: dict[str, Any] = sc.as_dict()
            if s["pnl"] is None:
                say(f"  {s['name']:38} {s['note']}")
            else:
                say(f"  {s['name']:38} PnL {_num(s['pnl']):>10}  drawdown {_num(s['drawdown'])} "
                    f"({_pct(s['drawdown_pct'])})" + (f"  {s['note']}" if s["note"] else ""))  # fmt: skip
    if report.monte_carlo is not None:
        mc: dict[str, Any] = report.monte_carlo.as_dict()
        fe, dd = mc["final_equity"], mc["max_drawdown"]
        say(
            f"Monte Carlo ({mc['paths']} paths, {mc['horizon_days']} days, seed {mc['seed']}): final equity "
            f"p5 {_num(fe['p5'])}  p50 {_num(fe['p50'])}  p95 {_num(fe['p95'])}; max drawdown p50 "
            f"{_pct(dd['p50'])}  p95 {_pct(dd['p95'])}; P(loss) {_pct(mc['prob_loss'])}"
            + (
                f"; P(drawdown >= {_pct(mc['drawdown_limit'])}) {_pct(mc['prob_drawdown_limit'])}"
                if mc["drawdown_limit"] is not None
                else ""
            )
        )
