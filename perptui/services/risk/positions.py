"""The account's positions as the risk metrics take them, and its portfolio, for either account.

Paper: the engine's ``position_inputs()`` (cross wallets, funding state) and the account's
``portfolio()`` (today's PnL net of transfers, drawdown on the equity history). Exchange (read-only):
the last read of ``fetch_positions``/``fetch_balance``; the mark is the live funding read's where there is
one, else the position's own; brackets are the market's (the conservative default ladder when unknown);
an isolated position's wallet is its initial margin (margin added by hand is not known); the wallet
balance is the balance's total less the unrealised PnL the exchange reports (at its marks, which is
what the total holds), and the cross wallet that less the isolated margins. Deposits on the exchange
are not known, so today's PnL and daily loss are None there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from perptui.domain.account import TRANSFER_KINDS
from perptui.domain.errors import PerptuiError
from perptui.domain.liquidation import side_sign
from perptui.domain.paper_spot import CarryPair, SpotHolding
from perptui.domain.risk_pairs import spot_book
from perptui.domain.risk_portfolio import PortfolioRisk, portfolio_risk
from perptui.domain.risk_position import PositionInput, position_risk, with_cross_wallet
from perptui.domain.tiers import default_tiers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from perptui.domain.types import Position
    from perptui.services.risk.context import ExchangeRead, RiskContext


@dataclass(frozen=True, slots=True)
class Book:
    """The positions and the portfolio at one moment, with the equity history behind the drawdown."""

    currency: str
    inputs: tuple[PositionInput, ...]
    equity_history: tuple[tuple[int, float], ...]
    flows: tuple[tuple[int, float], ...]  # deposits (+) and withdrawals (-)
    wallet: float | None
    equity_day_start: float | None
    flows_today: float
    notes: tuple[str, ...] = ()
    #: The circuit breaker's reset today: its loss and drawdown are measured from it.
    loss_since: int | None = None
    #: The paper account's spot holdings and carry pairs (``domain.paper_spot``).
    spot: tuple[SpotHolding, ...] = ()
    pairs: tuple[CarryPair, ...] = ()


def held_inputs(ctx: RiskContext, loss_since: int | None = None) -> Book:
    """The book now; ``loss_since``: the breaker's reset today (the daily loss and the drawdown are
    measured from it)."""
    return _paper_book(ctx, loss_since) if ctx.kind == "paper" else _exchange_book(ctx, loss_since)


def portfolio_of(book: Book, vols: Mapping[str, float | None], now: int) -> PortfolioRisk:
    """Per-position metrics (with the daily volatility for sigmas) and the portfolio figures."""
    risks = [position_risk(replace(i, daily_vol=vols.get(i.symbol))) for i in book.inputs]
    spot = spot_book(risks, book.spot, book.pairs) if book.spot or book.pairs else None
    return portfolio_risk(
        risks,
        book.wallet,
        now_ms=now,
        equity_day_start=book.equity_day_start,
        flows_today=book.flows_today,
        equity_history=book.equity_history,
        flows=book.flows,
        loss_since=book.loss_since,
        spot=spot,
    )


def _paper_book(ctx: RiskContext, loss_since: int | None) -> Book:
    engine = ctx.engine
    assert engine is not None
    account = engine.account
    now = ctx.now()
    inputs = tuple(engine.position_inputs())
    st = engine.read_state()
    spot = tuple(
        replace(h, last_mark=engine.ledger.spot_marks.get(h.symbol, h.last_mark))
        for h in st.spot
        if h.exchange == engine.exchange
    )
    # wallet, the equity at today's start (or the reset) and the transfers since
    base = account.portfolio(now, engine.marks, loss_since=loss_since)
    transfers = [f for f in account.cash_flows() if f.kind in TRANSFER_KINDS]
    return Book(
        currency=account.currency,
        inputs=inputs,
        equity_history=tuple(account.equity_history()),
        flows=tuple((f.time, f.signed) for f in transfers),
        wallet=base.wallet_balance,
        equity_day_start=base.equity_day_start,
        flows_today=_flows_today(base),
        loss_since=loss_since,
        spot=spot,
        pairs=tuple(p for p in st.pairs if p.exchange == engine.exchange),
    )


def _flows_today(base: PortfolioRisk) -> float:
    """The net transfers of today that ``account.portfolio`` took out of today's PnL."""
    if base.equity is None or base.equity_day_start is None or base.pnl_today is None:
        return 0.0
    return base.equity - base.equity_day_start - base.pnl_today


def _exchange_input(p: Position, read: ExchangeRead, ctx: RiskContext) -> PositionInput | None:
    rate = read.rates.get(p.symbol)
    mark = rate.mark if rate is not None and rate.mark else p.mark_price
    entry = p.entry_price
    if entry is None or not math.isfinite(entry) or entry <= 0 or p.qty <= 0:
        return None
    market = ctx.markets.get(p.symbol)
    tiers = market.tiers if market is not None and market.tiers else tuple(default_tiers(p.leverage))
    mode = p.margin_mode or "cross"
    interval = rate.interval_hours if rate is not None and rate.interval_hours else None
    if interval is None and market is not None:
        interval = market.funding_interval_hours
    return PositionInput(
        symbol=p.symbol,
        side=p.side,
        qty=p.qty,
        entry=entry,
        mark=mark,
        leverage=p.leverage,
        margin_mode=mode,
        wallet_balance=p.initial_margin if mode == "isolated" else None,
        tiers=tuple(tiers),
        funding_rate=rate.rate if rate is not None else None,
        funding_interval_hours=interval,
        next_funding_time=rate.next_funding_time if rate is not None else None,
        price_tick=market.price_tick if market is not None else None,
        amount_step=market.amount_step if market is not None else None,
    )


def _exchange_upnl(positions: tuple[Position, ...], inputs: list[PositionInput]) -> float:
    """The unrealised PnL inside the balance's total: the exchange's own figures (at ITS marks); where
    one is missing, ours at the live marks."""
    reported = [p.unrealized_pnl for p in positions]
    if all(v is not None and math.isfinite(v) for v in reported):
        return math.fsum(v for v in reported if v is not None)
    return math.fsum(side_sign(i.side) * i.qty * (i.mark - i.entry) for i in inputs if i.mark)


def _exchange_book(ctx: RiskContext, loss_since: int | None) -> Book:
    read = ctx.read
    if read is None:
        raise PerptuiError(
            f"no read of the {ctx.account} account yet: the balance and positions come from the exchange "
            "(refresh_inputs online first)"
        )
    notes: list[str] = []
    inputs: list[PositionInput] = []
    for p in read.positions:
        item = _exchange_input(p, read, ctx)
        if item is None:
            notes.append(f"{p.symbol}: the exchange gave no entry price; left out of the metrics")
            continue
        inputs.append(item)
        market = ctx.markets.get(p.symbol)
        if market is None or not market.tiers or market.tiers_approximate:
            notes.append(f"{p.symbol}: the exchange's brackets are not known; conservative default brackets")
    total = read.balance.total
    wallet = total - _exchange_upnl(read.positions, inputs) if total is not None else None
    isolated = math.fsum(i.wallet_balance or 0.0 for i in inputs if i.margin_mode == "isolated")
    cross_wallet = wallet - isolated if wallet is not None else None
    return Book(
        currency=read.balance.currency,
        inputs=tuple(with_cross_wallet(inputs, cross_wallet)),
        equity_history=tuple(ctx.store.load_equity(ctx.account)),
        flows=(),
        wallet=wallet,
        equity_day_start=None,
        flows_today=0.0,
        notes=(
            *notes,
            "today's PnL and the daily loss limit are unknown on the exchange (its deposits are not known)",
        ),
        loss_since=loss_since,
    )
