"""`perptui risk`: the account's risk now: positions and their distance to liquidation, the portfolio,
VaR/CVaR, volatility, the limits and how close each is, alerts, the circuit breaker.

The paper account by default (a short paper session: the configured market's marks, or with --offline
the cached tickers; what fell due since the last run settled first), or read-only the exchange's
(``account = "exchange"``, API keys, online only). Missing daily candles of the held assets are fetched
into the cache online; offline the cache is used and a note on stderr says so. A check logs new alerts
and may trip the circuit breaker, as the risk pane does. ``--json`` prints ``RiskReport.as_dict()``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from perptui.domain.errors import ExchangeUnavailable, UsageError
from perptui.domain.timeframes import iso_utc
from perptui.presentation import risk as rf
from perptui.presentation.numbers import leverage, money, pct

from .context import open_store, settings_from_args
from .output import err, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.risk import RiskReport
    from perptui.services.store import Store


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.account == "exchange":
        if settings.offline:
            raise UsageError(
                'account = "exchange" reads the positions from the exchange: drop --offline '
                '(or use the paper account: account = "paper")'
            )
        from perptui.services.accounts import check_exchange_account

        check_exchange_account(settings)
    from perptui.services.sources import clock_for

    clock = clock_for(settings)
    with open_store(settings) as store:
        report, lines, notes = asyncio.run(collect(settings, store, clock, garch=not args.json))
    for line in [*notes, *report.notes]:
        err().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)
    if args.json:
        print_json(report.as_dict())
    else:
        for line in lines:
            say(line)
        render(report)
    return 0


async def collect(
    settings: Settings, store: Store, clock: Clock, *, garch: bool
) -> tuple[RiskReport, list[str], list[str]]:
    """(the report, what the paper session settled, where the numbers came from)."""
    from perptui.services.risk import build_report, open_context, refresh_history, refresh_inputs
    from perptui.services.sources import open_market_data

    if settings.account == "exchange":
        ctx = open_context(settings, store, clock)
        source = open_market_data(settings, store, clock)
        try:
            await refresh_inputs(ctx, source)
        finally:
            await source.close()
        if ctx.read is None:
            raise ExchangeUnavailable(ctx.stale or f"{ctx.exchange}: the account could not be read")
        return await asyncio.to_thread(build_report, ctx, garch=garch), [], []

    from perptui.services.paper.session import open_session

    session = await open_session(settings, store, clock)
    ctx = open_context(settings, store, clock, engine=session.engine)
    ctx.live = session.live
    notes = list(session.notes)
    if session.live:
        source = open_market_data(settings, store, clock)
        try:
            await refresh_history(ctx, source)
        except ExchangeUnavailable as exc:
            notes.append(f"{ctx.exchange} is unreachable ({exc}): daily candles from the cache")
        finally:
            await source.close()
    report = await asyncio.to_thread(build_report, ctx, garch=garch)
    return report, [e.message for e in session.events], notes


# --- the summary ------------------------------------------------------------------------------------

#: A position's row colour by its distance to liquidation (``presentation.risk.liq_state``).
_STYLES = {"critical": "red", "warning": "yellow", "safe": "green"}


def render(report: RiskReport) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = out()
    p = report.portfolio
    cur = report.currency
    where = (
        f"the paper account on {report.exchange}"
        if report.kind == "paper"
        else f"the {report.account} account on {report.exchange} (read-only)"
    )
    say(f"risk of {where} at {iso_utc(report.as_of)}{'' if report.live else ' (cached)'}")
    if report.positions:
        headers = (
            "symbol", "side", "qty", "entry", "mark", "notional", "uPnL", "liq", "to liq", "σ", "margin",
            "next funding",
        )  # fmt: skip
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
        rows = [(rf.position_row(r), _STYLES[rf.liq_state(report.limits, r)]) for r in report.positions]
        for row, style in rows:
            table.add_row(*row, style=style)
        if not console.is_terminal:
            width = sum(max(len(h), *(len(r[i]) for r, _ in rows)) + 3 for i, h in enumerate(headers))
            console = Console(width=max(width, console.width), highlight=False, file=console.file)
        console.print(table)
    else:
        say("no open positions")
    say(
        f"equity {money(p.equity)} {cur}  wallet {money(p.wallet_balance)}  "
        f"uPnL {money(p.unrealized_pnl, signed=True)}  today {money(p.pnl_today, signed=True)}  "
        f"drawdown {pct(p.drawdown)}"
    )
    lev = leverage(p.leverage)
    say(f"exposure gross {money(p.gross_exposure)}  net {money(p.net_exposure, signed=True)}  leverage {lev}")
    hist, para = report.historical, report.parametric
    for level, hv, hc, qv, qc in ((95, hist.var_95, hist.cvar_95, para.var_95, para.cvar_95),
                                  (99, hist.var_99, hist.cvar_99, para.var_99, para.cvar_99)):  # fmt: skip
        say(
            f"1-day VaR {level}%: historical {money(hv)} (CVaR {money(hc)}), "
            f"parametric {money(qv)} (CVaR {money(qc)}) {cur}"
        )
    for v in report.volatility:
        garch = pct(v.garch) if v.garch is not None else f"— ({v.garch_reason})"
        say(f"vol {v.symbol}: realised 30d {pct(v.realised)}/day, EWMA {pct(v.ewma)}, GARCH {garch}")
    if report.correlation is not None:
        c = report.correlation
        for i, a in enumerate(c.symbols):
            for j in range(i + 1, len(c.symbols)):
                rho = c.matrix[i][j]
                say(f"correlation {a} / {c.symbols[j]}: {'—' if rho is None else f'{rho:+.2f}'}")
    for check in report.limits.summary():
        subject = f" {check.symbol}" if check.symbol else ""
        flag = f" {rf.limit_flag(check)}" if rf.limit_flag(check) else ""
        say(f"limit {check.kind}{subject}: [{rf.bar(check.closeness)}] {rf.limit_value(check)}{flag}")
    for alert in report.alerts:
        style = "bold red" if alert.severity == "critical" else "yellow"
        out().print(f"! {alert.message}", style=style, markup=False, highlight=False, soft_wrap=True)
    if not report.alerts:
        say("no alerts")
    b = report.breaker
    style = "bold red" if b.tripped else ""
    out().print(rf.breaker_text(b), style=style, markup=False, highlight=False, soft_wrap=True)
