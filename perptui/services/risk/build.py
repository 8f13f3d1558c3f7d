"""``build_report``: one synchronous check of the account's risk, from the store and the context.

Blocking (SQLite, numpy, a GARCH fit once per asset and day): call it from a worker thread. Never
touches the network: ``refresh_inputs`` brings marks, funding and candles first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.account import DAY_MS
from perptui.domain.limits import check_limits
from perptui.domain.risk_breaker import BreakerState, breaker_state, loss_since, trip_reason
from perptui.domain.risk_pairs import perp_of, with_spot_exposures
from perptui.domain.risk_portfolio import drawdowns, signed_exposures
from perptui.services.risk import analytics
from perptui.services.risk.alerts import log_alerts
from perptui.services.risk.history import daily_closes
from perptui.services.risk.positions import held_inputs, portfolio_of
from perptui.services.risk.report import RiskReport

if TYPE_CHECKING:
    from perptui.domain.limits import LimitReport
    from perptui.services.risk.context import RiskContext

#: The equity and drawdown chart's window.
CHART_DAYS = 30


def build_report(
    ctx: RiskContext,
    now: int | None = None,
    *,
    garch: bool = True,
    record: bool = True,
    chart_days: float = CHART_DAYS,
) -> RiskReport:
    """The account's risk now. ``garch``: fit GARCH(1,1) per held asset (cached per daily bar; the first
    fit imports arch, ~1.5 s). ``record``: log new and cleared alerts and trip the circuit breaker on a
    daily loss or drawdown breach (the monitor's job; a read-only caller passes False)."""
    from perptui.services.paper import breaker_now

    now = ctx.now() if now is None else int(now)
    book = held_inputs(ctx, loss_since(breaker_now(ctx.store, ctx.account, now)))
    held = {i.symbol for i in book.inputs} | {perp_of(h.symbol) for h in book.spot}
    closes = daily_closes(ctx.store, ctx.exchange, held, now)
    portfolio = portfolio_of(book, analytics.daily_vols(closes), now)
    exposures = with_spot_exposures(signed_exposures(portfolio.positions), portfolio.pairs, portfolio.spot)
    historical, parametric, panel = analytics.value_at_risk(exposures, closes)
    limits = check_limits(ctx.limits, portfolio)
    new_alerts = log_alerts(ctx.store, ctx.account, limits, now) if record else ()
    breaker = _breaker(ctx, limits, now, record)

    series = list(book.equity_history)
    if portfolio.equity is not None:
        series = [*(p for p in series if p[0] < now), (now, portfolio.equity)]
    dd = drawdowns(series, book.flows)
    since = now - int(chart_days * DAY_MS)
    notes = [*book.notes, *_notes(ctx, portfolio.positions, closes, historical.reason)]
    return RiskReport(
        account=ctx.account,
        kind=ctx.kind,
        exchange=ctx.exchange,
        currency=book.currency,
        as_of=now,
        portfolio=portfolio,
        historical=historical,
        parametric=parametric,
        volatility=analytics.volatility_rows(ctx.exchange, closes, garch),
        correlation=analytics.correlation_of(panel),
        limits=limits,
        alerts=limits.alerts,
        new_alerts=new_alerts,
        breaker=breaker,
        equity_history=tuple(p for p in series if p[0] >= since),
        drawdown_history=tuple(p for p in dd if p[0] >= since),
        live=ctx.live,
        notes=tuple(notes),
    )


def _breaker(ctx: RiskContext, limits: LimitReport, now: int, record: bool) -> BreakerState:
    """Paper: ``check_breaker`` (trips on the daily loss limit or the max drawdown). Exchange: the same
    rule on its own log: a trip there refuses nothing (perptui never orders on an exchange) but says stop."""
    from perptui.services.paper import breaker_now, check_breaker
    from perptui.services.paper.breaker import breaker_events
    from perptui.services.store import risk_events

    if ctx.kind == "paper" and ctx.engine is not None:
        if not record:
            return breaker_now(ctx.store, ctx.account, now)
        engine = ctx.engine
        resting = engine.config.breaker_limit_orders
        return check_breaker(ctx.store, engine.account, now, ctx.limits, engine.marks, resting=resting)
    state = breaker_now(ctx.store, ctx.account, now)
    if record and (reason := trip_reason(limits, state)) is not None:
        with ctx.store.writing() as conn:
            risk_events.log_event(conn, ctx.account, now, risk_events.BREAKER_TRIP, "critical", reason)
            state = breaker_state(breaker_events(conn, ctx.account, now), now)
    return state


def _notes(ctx: RiskContext, positions: tuple, closes: dict, var_reason: str | None) -> list[str]:
    notes = []
    if not ctx.live and ctx.stale:
        notes.append(ctx.stale)
    if any(p.margin_ratio is not None and p.margin_ratio == float("inf") for p in positions):
        notes.append("margin ratio infinite (margin balance at or below zero) is shown as null in JSON")
    short = sorted(s for s, rows in closes.items() if len(rows) < 21)
    if short:
        notes.append(f"too few cached daily closes for the volatility of {', '.join(short)}")
    if var_reason and positions:
        notes.append(f"historical VaR unknown: {var_reason}")
    return notes
