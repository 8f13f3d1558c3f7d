"""ccxt's unified dicts -> perptui domain types. Every conversion from ccxt lives here.

Quantities: ccxt counts amounts in contracts; perptui in base units, so amounts, steps and limits are
multiplied by the market's contract size (1 on Binance, e.g. 0.01 BTC on OKX).
"""

from __future__ import annotations

import math
from typing import Any

from perptui.domain.funding import interval_hours_from_times as interval_hours_from_times
from perptui.domain.tiers import continuous_maint_amounts
from perptui.domain.types import (
    Balance,
    Candle,
    FundingPrint,
    FundingRate,
    LeverageTier,
    Market,
    Position,
    Ticker,
)

# ccxt.base.decimal_to_precision constants (copied so this module does not import ccxt).
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4


def num(value: Any) -> float | None:
    """A finite float, or None for None, '', NaN and anything unreadable."""
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def is_linear_perp(market: dict[str, Any]) -> bool:
    return bool(market.get("swap")) and bool(market.get("linear"))


def step_from_precision(value: Any, precision_mode: int) -> float | None:
    """A step size from ccxt ``precision``: a tick (TICK_SIZE mode) or a count of decimals."""
    number = num(value)
    if number is None:
        return None
    if precision_mode == TICK_SIZE:
        return number if number > 0 else None
    if precision_mode == DECIMAL_PLACES:
        return 10.0 ** (-int(number))
    return None  # significant digits: no fixed step


def _scaled(value: float | None, factor: float) -> float | None:
    if value is None:
        return None
    return float(round(value * factor, 12)) if factor != 1 else value


def interval_hours_from_info(market: dict[str, Any]) -> float | None:
    """The funding interval an exchange states in its market info, when it does."""
    info = market.get("info") or {}
    if not isinstance(info, dict):
        return None
    hours = num(info.get("fundingIntervalHours"))
    if hours:
        return hours
    minutes = num(info.get("fundingInterval"))  # bybit: minutes
    if minutes:
        return minutes / 60
    seconds = num(info.get("funding_interval"))  # gate: seconds
    if seconds:
        return seconds / 3600
    ms = num(info.get("fundingRateGranularity"))  # kucoin futures: milliseconds
    if ms:
        return ms / 3_600_000
    hours = num(info.get("fundInterval"))  # bitget: hours
    if hours:
        return hours
    return None


def interval_hours_from_text(interval: Any) -> float | None:
    """ccxt's ``interval`` field of a funding rate: ``'8h'`` -> 8.0."""
    if not interval or not isinstance(interval, str):
        return None
    text = interval.strip().lower()
    try:
        if text.endswith("h"):
            return float(text[:-1])
        if text.endswith("m"):
            return float(text[:-1]) / 60
    except ValueError:
        return None
    return None


def tiers_from_ccxt(raw: list[dict[str, Any]]) -> list[LeverageTier]:
    """ccxt leverage tiers -> LeverageTier, sorted by notional. ``maint_amount`` is Binance's
    ``info.cum`` (or Bybit's ``mmDeduction``) where given, else derived so brackets are continuous."""
    rows = sorted(raw, key=lambda t: num(t.get("minNotional")) or 0.0)
    given: list[float | None] = []
    for tier in rows:
        raw_info = tier.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        given.append(num(info.get("cum")) if "cum" in info else num(info.get("mmDeduction")))
    brackets = [(num(t.get("minNotional")) or 0.0, num(t.get("maintenanceMarginRate")) or 0.0) for t in rows]
    derived = continuous_maint_amounts(brackets)
    use_given = all(g is not None for g in given)
    result = []
    for i, tier in enumerate(rows):
        max_notional = num(tier.get("maxNotional"))
        cum = given[i] if use_given else derived[i]
        result.append(
            LeverageTier(
                min_notional=brackets[i][0],
                max_notional=math.inf if max_notional is None else max_notional,
                mmr=brackets[i][1],
                maint_amount=float(cum or 0.0),
                max_leverage=num(tier.get("maxLeverage")) or 1.0,
            )
        )
    return result


def market_from_ccxt(
    market: dict[str, Any],
    *,
    exchange: str,
    precision_mode: int,
    tiers: list[LeverageTier] | None = None,
    tiers_approximate: bool = False,
    funding_interval_hours: float | None = None,
    spot_symbol: str | None = None,
    min_notional: float | None = None,
) -> Market:
    contract_size = num(market.get("contractSize")) or 1.0
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    leverage_limits = limits.get("leverage") or {}
    # From real tiers, else the exchange's stated limit; never from the approximate default ladder.
    max_leverage = (
        max((t.max_leverage for t in tiers), default=None) if tiers and not tiers_approximate else None
    )
    if max_leverage is None:
        max_leverage = num(leverage_limits.get("max"))
    return Market(
        exchange=exchange,
        symbol=market["symbol"],
        id=str(market.get("id")),
        base=market.get("base") or "",
        quote=market.get("quote") or "",
        settle=market.get("settle") or market.get("quote") or "",
        contract_size=contract_size,
        amount_step=_scaled(step_from_precision(precision.get("amount"), precision_mode), contract_size),
        price_tick=step_from_precision(precision.get("price"), precision_mode),
        min_qty=_scaled(num(amount_limits.get("min")), contract_size),
        max_qty=_scaled(num(amount_limits.get("max")), contract_size),
        min_notional=min_notional if min_notional is not None else num(cost_limits.get("min")),
        taker_fee=num(market.get("taker")),
        maker_fee=num(market.get("maker")),
        max_leverage=max_leverage,
        funding_interval_hours=funding_interval_hours or interval_hours_from_info(market),
        spot_symbol=spot_symbol,
        active=market.get("active") is not False,
        tiers=tuple(tiers or ()),
        tiers_approximate=tiers_approximate,
    )


def ticker_from_ccxt(raw: dict[str, Any], contract_size: float = 1.0) -> Ticker:
    return Ticker(
        symbol=raw["symbol"],
        timestamp=int(raw.get("timestamp") or 0),
        last=num(raw.get("last")),
        mark=num(raw.get("markPrice")),
        index=num(raw.get("indexPrice")),
        quote_volume_24h=num(raw.get("quoteVolume")),
    )


def open_interest_from_ccxt(raw: dict[str, Any], contract_size: float, mark: float | None) -> tuple:
    """(open interest in base units, in the quote currency) from a ccxt open-interest structure."""
    base_amount = num(raw.get("openInterestAmount"))
    if base_amount is not None:
        base_amount = base_amount * contract_size
    value = num(raw.get("openInterestValue"))
    if value is None and base_amount is not None and mark is not None:
        value = base_amount * mark
    return base_amount, value


def funding_rate_from_ccxt(raw: dict[str, Any], interval_hours: float | None) -> FundingRate:
    """ccxt ``fundingRate`` is the current period's rate. Exchanges disagree on which timestamp is the
    next settlement: Binance and Bybit put it in ``fundingTimestamp``; OKX too, with the period after in
    ``nextFundingTimestamp`` and its predicted rate in ``nextFundingRate``."""
    timestamp = int(raw.get("timestamp") or 0)
    next_time = raw.get("fundingTimestamp") or raw.get("nextFundingTimestamp")
    return FundingRate(
        symbol=raw["symbol"],
        timestamp=timestamp,
        rate=num(raw.get("fundingRate")),
        next_funding_time=int(next_time) if next_time else None,
        predicted_rate=num(raw.get("nextFundingRate")),
        interval_hours=interval_hours_from_text(raw.get("interval")) or interval_hours,
        mark=num(raw.get("markPrice")),
        index=num(raw.get("indexPrice")),
    )


def funding_prints_from_ccxt(
    rows: list[dict[str, Any]], symbol: str, since: int, until: int | None
) -> list[FundingPrint]:
    prints = []
    for row in rows:
        time = row.get("timestamp")
        rate = num(row.get("fundingRate"))
        if time is None or rate is None:
            continue
        time = int(time)
        if time < since or (until is not None and time >= until):
            continue
        prints.append(FundingPrint(symbol=symbol, time=time, rate=rate))
    prints.sort(key=lambda p: p.time)
    return prints


def candles_from_ccxt(rows: list[list[Any]], since: int, until: int | None) -> list[Candle]:
    candles = []
    for row in rows:
        if len(row) < 6 or row[0] is None:
            continue
        time = int(row[0])
        if time < since or (until is not None and time >= until):
            continue
        values = [num(v) for v in row[1:6]]
        if any(v is None for v in values[:4]):
            continue
        o, h, low, c, v = values
        candles.append(Candle(time, o, h, low, c, v or 0.0))  # type: ignore[arg-type]  # o, h, low, c are checked not None above
    candles.sort(key=lambda c: c.time)
    return candles


def balance_from_ccxt(raw: dict[str, Any], currency: str) -> Balance:
    entry = raw.get(currency) or {}
    return Balance(
        currency=currency,
        total=num(entry.get("total")),
        free=num(entry.get("free")),
        used=num(entry.get("used")),
    )


def position_from_ccxt(raw: dict[str, Any], contract_size: float = 1.0) -> Position | None:
    """None for flat (zero-size) entries."""
    contracts = num(raw.get("contracts"))
    if not contracts:
        return None
    size = num(raw.get("contractSize")) or contract_size
    side = raw.get("side")
    if side not in ("long", "short"):
        return None
    margin_mode = raw.get("marginMode")
    return Position(
        symbol=raw["symbol"],
        side=side,
        qty=abs(contracts) * size,
        entry_price=num(raw.get("entryPrice")),
        mark_price=num(raw.get("markPrice")),
        leverage=num(raw.get("leverage")),
        margin_mode=margin_mode if margin_mode in ("isolated", "cross") else None,
        unrealized_pnl=num(raw.get("unrealizedPnl")),
        liquidation_price=num(raw.get("liquidationPrice")),
        initial_margin=num(raw.get("initialMargin")),
        maintenance_margin=num(raw.get("maintenanceMargin")),
        # The position's own stop-loss where the exchange keeps one on the position (Bybit's stopLoss):
        # a live position with it is protected even without a stop order.
        extra={"stop_loss": stop} if (stop := num(raw.get("stopLossPrice"))) else {},
    )
