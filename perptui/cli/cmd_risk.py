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

from .context import open_store, settings_from_args
from .output import err, fmt_num, out, print_json, say

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.limits import LimitCheck
    from perptui.domain.risk_position import PositionRisk
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


def _pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x * 100 + 0.0:.{digits}f}%"


def _money(x: float | None, currency: str = "") -> str:
    return "—" if x is None else f"{x:+,.2f}{' ' + currency if currency else ''}"


def _amount(x: float | None) -> str:
    return "—" if x is None else f"{x:,.2f}"


def _style(report: RiskReport, p: PositionRisk) -> str:
    """Red at or past the minimum distance to liquidation, yellow near it, green otherwise."""
    check = next((c for c in report.limits.checks if c.kind == "liq_distance" and c.symbol == p.symbol), None)
    if p.liq_distance is not None and p.liq_distance <= 0:
        return "bold red"
    if check is not None and check.breached:
        return "red"
    if check is not None and check.warning:
        return "yellow"
    return "green"


def _position_row(p: PositionRisk) -> tuple[str, ...]:
    ratio = "∞" if p.margin_ratio == float("inf") else _pct(p.margin_ratio, 1)
    sigma = "—" if p.liq_distance_sigma is None else f"{p.liq_distance_sigma:.1f}σ"
    liq = "never" if p.never_liquidated else fmt_num(p.liq_price, 8)
    return (
        p.symbol,
        p.side,
        fmt_num(p.qty),
        fmt_num(p.entry, 8),
        fmt_num(p.mark, 8),
        _amount(p.notional),
        _money(p.upnl),
        liq,
        _pct(p.liq_distance),
        sigma,
        ratio,
        "—" if p.next_funding is None else f"{p.next_funding:+,.4f}",
    )


def _bar(closeness: float | None, width: int = 20) -> str:
    if closeness is None:
        return "[" + "?" * width + "]"
    filled = min(width, round(min(closeness, 1.0) * width))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _limit_value(c: LimitCheck) -> str:
    if c.value is None:
        return "no stop" if c.kind == "risk_per_trade" else "unknown"
    if c.kind == "leverage":
        return f"{c.value:.2f}x of {c.limit:.2f}x"
    value = "infinite" if c.value == float("inf") else _pct(c.value)
    return f"{value} ({'min' if c.kind == 'liq_distance' else 'max'} {_pct(c.limit)})"


def render(report: RiskReport) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = out()
    p = report.portfolio
    cur = report.currency
    where = "the paper account" if report.kind == "paper" else f"the {report.account} account (read-only)"
    say(
        f"risk of {where} on {report.exchange} at {iso_utc(report.as_of)}{'' if report.live else ' (cached)'}"
    )
    if report.positions:
        headers = (
            "symbol", "side", "qty", "entry", "mark", "notional", "uPnL", "liq", "to liq", "σ", "margin",
            "next funding",
        )  # fmt: skip
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
        rows = [(_position_row(r), _style(report, r)) for r in report.positions]
        for row, style in rows:
            table.add_row(*row, style=style)
        if not console.is_terminal:
            width = sum(max(len(h), *(len(r[i]) for r, _ in rows)) + 3 for i, h in enumerate(headers))
            console = Console(width=max(width, console.width), highlight=False, file=console.file)
        console.print(table)
    else:
        say("no open positions")
    say(
        f"equity {_amount(p.equity)} {cur}  wallet {_amount(p.wallet_balance)}  "
        f"uPnL {_money(p.unrealized_pnl)}  today {_money(p.pnl_today)}  drawdown {_pct(p.drawdown)}"
    )
    lev = "—" if p.leverage is None else f"{p.leverage:.2f}x"
    say(f"exposure gross {_amount(p.gross_exposure)}  net {_money(p.net_exposure)}  leverage {lev}")
    h, q = report.historical, report.parametric
    for level, hv, hc, qv, qc in ((95, h.var_95, h.cvar_95, q.var_95, q.cvar_95),
                                  (99, h.var_99, h.cvar_99, q.var_99, q.cvar_99)):  # fmt: skip
        say(
            f"1-day VaR {level}%: historical {_amount(hv)} (CVaR {_amount(hc)}), "
            f"parametric {_amount(qv)} (CVaR {_amount(qc)}) {cur}"
        )
    for v in report.volatility:
        garch = _pct(v.garch) if v.garch is not None else f"— ({v.garch_reason})"
        say(f"vol {v.symbol}: realised 30d {_pct(v.realised)}/day, EWMA {_pct(v.ewma)}, GARCH {garch}")
    if report.correlation is not None:
        c = report.correlation
        for i, a in enumerate(c.symbols):
            for j in range(i + 1, len(c.symbols)):
                rho = c.matrix[i][j]
                say(f"correlation {a} / {c.symbols[j]}: {'—' if rho is None else f'{rho:+.2f}'}")
    for check in report.limits.summary():
        subject = f" {check.symbol}" if check.symbol else ""
        flag = " BREACHED" if check.breached else " near" if check.warning else ""
        say(f"limit {check.kind}{subject}: {_bar(check.closeness)} {_limit_value(check)}{flag}")
    for alert in report.alerts:
        style = "bold red" if alert.severity == "critical" else "yellow"
        out().print(f"! {alert.message}", style=style, markup=False, highlight=False, soft_wrap=True)
    if not report.alerts:
        say("no alerts")
    b = report.breaker
    if b.tripped:
        out().print(
            f"circuit breaker TRIPPED until {iso_utc(b.until)}: {b.reason or 'a limit was hit'}",
            style="bold red",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    else:
        say("circuit breaker: armed" + (" (reset today)" if b.reset_at is not None else ""))
