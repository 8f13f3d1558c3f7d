"""Position sizing: how big a trade may be, what it costs, and where it is liquidated. Pure.

The quantity is the largest multiple of the market's amount step that satisfies every constraint:

- ``risk``: the loss if the stop fills stays within the budget. Loss per unit =
  ``|E - S| + E x fee_entry + S x fee_exit + S x slippage`` (both fees and the slippage allowance);
- ``margin``: initial margin plus the entry fee fit in the free margin: ``Q x E x (1/L + fee_entry)``;
- ``tier``: the notional stays within the largest notional the brackets allow at the chosen leverage;
- ``max_qty``: the market's maximum order quantity.

Everything is in the settle currency; rates, fees and risk are FRACTIONS (0.01 = 1%); slippage is in
basis points. Signed funding figures are the position's cash flow: positive is income, negative a cost.
Bad input raises ``SizingError`` naming the field; nothing is computed from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeGuard, cast

from perptui.domain import precision as fmt
from perptui.domain.errors import UsageError
from perptui.domain.liquidation import (
    liquidation_price,
    max_leverage,
    max_notional_at_leverage,
    side_sign,
    tier_allowing,
)
from perptui.domain.market_rules import ceil_to_step, floor_to_step, steps_to_qty
from perptui.domain.precision import step_decimals
from perptui.domain.quantities import DEFAULT_MAX_LEVERAGE, MAX_LEVERAGE, MAX_PRICE, MIN_PRICE
from perptui.domain.types import LeverageTier, MarginMode, Market, Side

Constraint = Literal["risk", "margin", "tier", "max_qty"]
CONSTRAINTS: tuple[Constraint, ...] = ("risk", "margin", "tier", "max_qty")

#: Funding against the position above this APR (a fraction) raises a warning: about twice the
#: baseline of 0.01% per 8 hours (10.95% a year) that longs pay most of the time.
DEFAULT_FUNDING_WARN_APR = 0.20
MAX_FEE = 0.01
MAX_SLIPPAGE_BPS = 1000.0
#: Amounts the calculator accepts (prices: ``quantities.MIN_PRICE`` to ``MAX_PRICE``): far beyond any
#: account, near enough that every figure it derives (quantities, notionals, margins) stays a finite
#: float. Typed amounts are capped lower (``quantities.MAX_AMOUNT``).
MAX_AMOUNT = 1e15

#: The keys of ``perptui size --json``, in order; ``SizingResult.as_dict`` adds detail after them.
JSON_KEYS: tuple[str, ...] = (
    "symbol",
    "side",
    "entry",
    "stop",
    "quantity",
    "notional",
    "initial_margin",
    "leverage",
    "risk_usd",
    "risk_pct",
    "fees_usd",
    "liquidation_price",
    "binding_constraint",
    "breakeven_price",
    "funding_per_day_usd",
    "take_profits",
    "warnings",
)


class SizingError(UsageError):
    """An input the calculator cannot use; ``field`` names it (``entry``, ``stop``, ``leverage`` ...)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakeProfitSpec:
    """A take-profit as an R multiple or a price (exactly one), closing ``share`` of the position (a
    fraction; None shares equally what the explicit shares leave)."""

    r: float | None = None
    price: float | None = None
    share: float | None = None


@dataclass(frozen=True, slots=True)
class SizingRequest:
    market: Market
    side: Side
    entry: float
    stop: float
    equity: float
    risk_fraction: float | None = None  # exactly one of risk_fraction and risk_amount
    risk_amount: float | None = None
    leverage: float | None = None  # None: auto, the lowest whole leverage carrying the final quantity
    margin_mode: MarginMode = "isolated"
    free_margin: float | None = None  # default: equity
    #: Cross margin only: the cross wallet balance adjusted by the other positions (+ their unrealised
    #: PnL - their maintenance margin). Default: equity - ``other_maintenance``.
    cross_balance: float | None = None
    #: Cross margin only, when ``cross_balance`` is not given: the maintenance margin of the account's
    #: other positions, taken off the equity. None = not known: the cross liquidation price is then
    #: unknown rather than optimistic.
    other_maintenance: float | None = 0.0
    fee_entry: float | None = None  # default: the market's taker fee
    fee_exit: float | None = None  # default: the market's taker fee
    slippage_bps: float = 0.0
    take_profits: tuple[TakeProfitSpec, ...] = ()
    funding_rate: float | None = None  # the current period's rate
    funding_interval_hours: float | None = None  # default: the market's
    mark: float | None = None  # for funding; default: entry
    max_risk_fraction: float | None = None  # the configured maximum per trade
    funding_warn_apr: float = DEFAULT_FUNDING_WARN_APR


# --- outputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SizingWarning:
    code: str  # stop_beyond_liquidation, liquidation_unknown, leverage_above_tier, below_min_qty, ...
    message: str


@dataclass(frozen=True, slots=True)
class TakeProfit:
    r: float  # reward : risk, net of fees
    price: float
    share: float
    qty: float  # share x quantity, rounded down to the step
    pnl: float  # net of both fees, on ``qty``

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "price": self.price, "share": self.share, "qty": self.qty, "pnl_usd": self.pnl}


@dataclass(frozen=True, slots=True)
class SizingResult:
    exchange: str
    symbol: str
    side: Side
    entry: float
    stop: float
    equity: float
    leverage: float
    leverage_auto: bool
    margin_mode: MarginMode
    fee_entry: float
    fee_exit: float
    slippage_bps: float
    risk_budget: float
    loss_per_unit: float
    #: The (unrounded) largest quantity each constraint allows; None where the constraint does not apply.
    limits: dict[str, float | None]
    binding_constraint: Constraint
    quantity: float
    notional: float
    initial_margin: float
    risk_usd: float
    risk_pct: float
    fee_entry_usd: float
    fee_exit_usd: float
    liquidation_price: float | None
    #: True when no positive price liquidates the position (its margin covers a fall to zero).
    never_liquidated: bool
    liquidation_tier: LeverageTier | None
    #: (stop - liquidation) / entry, signed so that > 0 means the stop fills first; None without a price.
    stop_liquidation_gap: float | None
    breakeven_price: float
    funding_rate: float | None
    funding_interval_hours: float | None
    funding_per_interval: float | None
    funding_per_day: float | None
    funding_apr: float | None  # the position's funding as a yearly fraction of its notional (+ income)
    take_profits: tuple[TakeProfit, ...]
    min_quantity: float | None  # the smallest quantity the market accepts at this entry
    min_quantity_risk: float | None  # the loss at the stop of that minimum size
    tradable: bool  # quantity > 0 and at least the minimum
    tiers_approximate: bool
    warnings: tuple[SizingWarning, ...] = field(default_factory=tuple)

    @property
    def fees_usd(self) -> float:
        return self.fee_entry_usd + self.fee_exit_usd

    @property
    def binding_text(self) -> str:
        return binding_description(self)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "symbol": self.symbol,
            "side": self.side,
            "entry": self.entry,
            "stop": self.stop,
            "quantity": self.quantity,
            "notional": self.notional,
            "initial_margin": self.initial_margin,
            "leverage": self.leverage,
            "risk_usd": self.risk_usd,
            "risk_pct": self.risk_pct,
            "fees_usd": self.fees_usd,
            "liquidation_price": self.liquidation_price,
            "binding_constraint": self.binding_constraint,
            "breakeven_price": self.breakeven_price,
            "funding_per_day_usd": self.funding_per_day,
            "take_profits": [tp.as_dict() for tp in self.take_profits],
            "warnings": [w.message for w in self.warnings],
        }
        tier = self.liquidation_tier
        data |= {
            "exchange": self.exchange,
            "equity": self.equity,
            "leverage_auto": self.leverage_auto,
            "margin_mode": self.margin_mode,
            "fee_entry": self.fee_entry,
            "fee_exit": self.fee_exit,
            "slippage_bps": self.slippage_bps,
            "risk_budget_usd": self.risk_budget,
            "loss_per_unit": self.loss_per_unit,
            "limits": dict(self.limits),
            "binding_text": self.binding_text,
            "fee_entry_usd": self.fee_entry_usd,
            "fee_exit_usd": self.fee_exit_usd,
            "never_liquidated": self.never_liquidated,
            "liquidation_tier": tier.as_dict() if tier else None,
            "stop_liquidation_gap": self.stop_liquidation_gap,
            "funding_rate": self.funding_rate,
            "funding_interval_hours": self.funding_interval_hours,
            "funding_per_interval_usd": self.funding_per_interval,
            "funding_apr": self.funding_apr,
            "min_quantity": self.min_quantity,
            "min_quantity_risk_usd": self.min_quantity_risk,
            "tradable": self.tradable,
            "tiers_approximate": self.tiers_approximate,
            "warning_codes": [w.code for w in self.warnings],
        }
        return data


# --- steps ------------------------------------------------------------------------------------------


def _clean(qty: float, step: float | None) -> float:
    return round(qty, step_decimals(step)) if step else qty


# --- stops ------------------------------------------------------------------------------------------


def stop_price(
    side: Side,
    entry: float,
    *,
    price: float | None = None,
    pct: float | None = None,
    atr: float | None = None,
    atr_mult: float | None = None,
    tick: float | None = None,
) -> float:
    """The stop as a price from exactly one of: a price, a distance as a fraction of entry (``pct``), or
    a multiple of an ATR value. Checked for the side (a long's stop below the entry, a short's above).

    A stop derived from a distance is rounded to the market's ``tick`` AWAY from the entry, so the stop
    a trader can actually place never risks more than the one sized (a price given is kept as is)."""
    _check_price("entry", entry)
    given = [price is not None, pct is not None, atr_mult is not None]
    if sum(given) != 1:
        raise SizingError("stop", "give exactly one of a stop price, a % distance or an ATR multiple")
    s = side_sign(side)
    if price is not None:
        stop = price
    elif pct is not None:
        if not _finite(pct) or not 0 < pct < 1:
            raise SizingError(
                "stop", f"a % distance must be more than 0% and less than 100%, not {_pct(pct)}"
            )
        stop = entry * (1 - s * pct)
    else:
        if not _finite(atr_mult) or atr_mult <= 0:
            raise SizingError("stop", f"the ATR multiple must be above 0, not {atr_mult!r}")
        if atr is None:
            raise SizingError("stop", "the ATR is not known: the cache has too few candles for it")
        if not _finite(atr) or atr <= 0:
            raise SizingError("stop", f"the ATR must be above 0, not {atr!r}")
        stop = entry - s * atr_mult * atr
    if price is None and tick is not None and tick > 0 and _finite(stop) and stop > 0:
        stop = floor_to_step(stop, tick) if s > 0 else ceil_to_step(stop, tick)
    check_stop(side, entry, stop)
    return stop


def check_stop(side: Side, entry: float, stop: float) -> None:
    """A SizingError naming the stop when it is not a price on the losing side of the entry."""
    if not _finite(stop):
        raise SizingError("stop", f"must be a price, not {stop!r}")
    if stop <= 0:
        raise SizingError("stop", f"{_num(stop)} is not above 0; a stop is a positive price")
    _check_price("stop", stop)
    if stop == entry:
        raise SizingError("stop", f"equals the entry {_num(entry)}; the stop needs a distance from it")
    if side == "long" and stop > entry:
        raise SizingError(
            "stop", f"{_num(stop)} is above the entry {_num(entry)}; a long's stop goes below it"
        )
    if side == "short" and stop < entry:
        raise SizingError(
            "stop", f"{_num(stop)} is below the entry {_num(entry)}; a short's stop goes above it"
        )


# --- the calculator ---------------------------------------------------------------------------------


def loss_per_unit(entry: float, stop: float, fee_entry: float, fee_exit: float, slippage: float) -> float:
    """The loss per unit of base if the stop fills: price distance, both fees, and the slippage allowance.

    domain.md charges the exit fee on the stop price; a short's stop fills up to ``S x (1 + slippage)``
    and pays the fee on that, so the fee is charged on ``S x (1 + slippage)`` for both sides: never
    less than the real loss (a long's fill is lower, its fee smaller)."""
    return abs(entry - stop) + entry * fee_entry + stop * (1 + slippage) * fee_exit + stop * slippage


def breakeven_price(side: Side, entry: float, fee_entry: float, fee_exit: float) -> float:
    """The exit price at which the trade makes exactly zero after both fees."""
    if side == "long":
        return entry * (1 + fee_entry) / (1 - fee_exit)
    return entry * (1 - fee_entry) / (1 + fee_exit)


def net_pnl_per_unit(side: Side, entry: float, exit_price: float, fee_entry: float, fee_exit: float) -> float:
    return side_sign(side) * (exit_price - entry) - entry * fee_entry - exit_price * fee_exit


def size_position(req: SizingRequest) -> SizingResult:
    """Size a trade. Raises ``SizingError`` for input it cannot use."""
    m = req.market
    side = _check_side(req.side)
    s = side_sign(side)
    entry = _check_price("entry", req.entry)
    check_stop(side, entry, req.stop)
    stop = float(req.stop)
    equity = _check_amount("equity", _check_positive("equity", req.equity, "an amount above 0"))
    budget = _risk_budget(req, equity)
    fee_entry = check_fee("fee", req.fee_entry, m.taker_fee)
    fee_exit = check_fee("fee", req.fee_exit, m.taker_fee)
    slippage_bps = check_slippage(req.slippage_bps)
    slippage = slippage_bps / 10_000
    free = equity if req.free_margin is None else req.free_margin
    if not _finite(free) or free < 0:
        raise SizingError("free margin", f"must be 0 or more, not {free!r}")
    _check_amount("free margin", free)
    if req.margin_mode not in ("isolated", "cross"):
        raise SizingError("margin mode", f"must be isolated or cross, not {req.margin_mode!r}")
    other_mm = req.other_maintenance
    if other_mm is not None and (not _finite(other_mm) or other_mm < 0):
        raise SizingError("other positions' maintenance margin", f"must be 0 or more, not {other_mm!r}")
    cross_known = req.cross_balance is not None or other_mm is not None
    cross_balance = req.cross_balance if req.cross_balance is not None else equity - (other_mm or 0.0)
    if not _finite(cross_balance) or cross_balance <= 0:
        raise SizingError(
            "cross balance", f"must be above 0 (an account without one is liquidated), not {cross_balance!r}"
        )
    _check_amount("cross balance", cross_balance)
    max_risk = req.max_risk_fraction
    if max_risk is not None and (not _finite(max_risk) or not 0 < max_risk <= 1):
        raise SizingError("max risk", f"must be above 0% and at most 100% of equity, not {_pct(max_risk)}")
    warn_apr = req.funding_warn_apr
    if not _finite(warn_apr) or warn_apr < 0:
        raise SizingError("funding warning", f"must be a yearly rate of 0 or more, not {warn_apr!r}")

    tiers = m.tiers
    market_max = max_leverage(tiers, m.max_leverage)
    lpu = loss_per_unit(entry, stop, fee_entry, fee_exit, slippage)
    q_risk = budget / lpu

    leverage_auto = req.leverage is None

    def sized_at(lev: float) -> tuple[float, Constraint, dict[str, float | None]]:
        """The largest quantity every constraint allows at leverage ``lev``."""
        cap = max_notional_at_leverage(tiers, lev) if tiers else math.inf
        if cap is None:  # only when the brackets disagree with the market's own max leverage
            raise SizingError("leverage", f"{_num(lev)}x is above every bracket of {m.symbol}")
        limits: dict[str, float | None] = {
            "risk": q_risk,
            "margin": free / (entry * (1 / lev + fee_entry)),
            "tier": cap / entry if math.isfinite(cap) else None,
            "max_qty": m.max_qty if m.max_qty is not None and m.max_qty > 0 else None,
        }

        def violated(q: float) -> list[Constraint]:
            broken: list[Constraint] = []
            if q * lpu > budget:
                broken.append("risk")
            if q * entry / lev + q * entry * fee_entry > free:
                broken.append("margin")
            if q * entry > cap:
                broken.append("tier")
            if limits["max_qty"] is not None and q > limits["max_qty"]:
                broken.append("max_qty")
            return broken

        return (*_largest_quantity(limits, m.amount_step, violated), limits)

    if leverage_auto:
        leverage = _auto_leverage(sized_at, tiers, market_max)
    else:
        leverage = _check_leverage(req.leverage, market_max, m.symbol)
    qty, binding, limits = sized_at(leverage)

    notional = qty * entry
    initial_margin = notional / leverage
    fee_entry_usd = qty * entry * fee_entry
    fee_exit_usd = qty * stop * (1 + slippage) * fee_exit  # on the worst fill the allowance permits
    risk_usd = qty * lpu

    wallet = initial_margin if req.margin_mode == "isolated" else cross_balance - fee_entry_usd
    unknown_liq = req.margin_mode == "cross" and not cross_known
    liq = None if unknown_liq else liquidation_price(side, qty, entry, wallet, tiers)
    liq_price = liq.price if liq else None
    never_liquidated = liq is not None and liq.price is None
    gap = s * (stop - liq_price) / entry if liq_price is not None else None

    interval = (
        req.funding_interval_hours if req.funding_interval_hours is not None else m.funding_interval_hours
    )
    if interval is not None and (not _finite(interval) or interval <= 0):
        raise SizingError("funding interval", f"must be a number of hours above 0, not {interval!r}")
    rate = req.funding_rate
    if rate is not None and not _finite(rate):
        raise SizingError("funding rate", f"must be a number, not {rate!r}")
    mark = entry if req.mark is None else _check_price("mark", req.mark)
    per_interval = -s * qty * mark * rate if rate is not None else None
    per_day = per_interval * 24 / interval if per_interval is not None and interval else None
    funding_apr = -s * rate * 24 / interval * 365 if rate is not None and interval else None

    take_profits = _take_profits(
        req.take_profits, side, entry, qty, lpu, fee_entry, fee_exit, m.amount_step, m.price_tick
    )

    min_qty = _minimum_quantity(m, entry)
    tradable = qty > 0 and (min_qty is None or qty >= min_qty)
    min_risk = min_qty * lpu if min_qty is not None else None

    result = SizingResult(
        exchange=m.exchange,
        symbol=m.symbol,
        side=side,
        entry=entry,
        stop=stop,
        equity=equity,
        leverage=leverage,
        leverage_auto=leverage_auto,
        margin_mode=req.margin_mode,
        fee_entry=fee_entry,
        fee_exit=fee_exit,
        slippage_bps=slippage_bps,
        risk_budget=budget,
        loss_per_unit=lpu,
        limits=limits,
        binding_constraint=binding,
        quantity=qty,
        notional=notional,
        initial_margin=initial_margin,
        risk_usd=risk_usd,
        risk_pct=risk_usd / equity,
        fee_entry_usd=fee_entry_usd,
        fee_exit_usd=fee_exit_usd,
        liquidation_price=liq_price,
        never_liquidated=never_liquidated,
        liquidation_tier=liq.tier if liq else None,
        stop_liquidation_gap=gap,
        breakeven_price=breakeven_price(side, entry, fee_entry, fee_exit),
        funding_rate=rate,
        funding_interval_hours=interval,
        funding_per_interval=per_interval,
        funding_per_day=per_day,
        funding_apr=funding_apr,
        take_profits=take_profits,
        min_quantity=min_qty,
        min_quantity_risk=min_risk,
        tradable=tradable,
        tiers_approximate=m.tiers_approximate,
    )
    return _with_warnings(result, req, budget)


def _largest_quantity(limits, step, violated) -> tuple[float, Constraint]:
    """The largest step multiple no constraint forbids, and the constraint one more step would break."""
    applicable = {k: v for k, v in limits.items() if v is not None}
    smallest = min(applicable.values())
    ordered: list[Constraint] = sorted(applicable, key=lambda k: (applicable[k], CONSTRAINTS.index(k)))
    if step is None or step <= 0:
        qty = max(0.0, smallest)
        while qty > 0 and violated(qty):  # float noise at the limit
            qty = math.nextafter(qty, 0.0)
        return qty, ordered[0]

    def fits(k: int) -> bool:
        return not violated(steps_to_qty(k, step))

    # The estimate is a step or two from the answer; bracket the answer around it with doubling strides,
    # then bisect (``fits`` falls with ``n``). Step by step would never end where one step is lost in
    # the float of a huge quantity.
    n = max(0, math.floor(smallest / step + 1e-9))
    stride = 1
    if fits(n):
        while fits(n + stride):
            n += stride
            stride *= 2
        low, high = n, n + stride
    else:
        while n - stride > 0 and not fits(n - stride):
            n -= stride
            stride *= 2
        low, high = max(0, n - stride), n
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    n = low  # fits(0) always holds: an empty position breaks no constraint
    broken = violated(steps_to_qty(n + 1, step))
    binding = next(k for k in ordered if k in broken) if any(k in broken for k in ordered) else ordered[0]
    return steps_to_qty(n, step), binding


def _auto_leverage(
    sized_at: Callable[[float], tuple[float, Constraint, dict[str, float | None]]],
    tiers: Sequence[LeverageTier],
    market_max: float | None,
) -> float:
    """The lowest whole leverage at which the FINAL quantity fits: the final quantity is the largest
    any allowed whole leverage gives after every cap (risk, margin, the bracket's notional cap at that
    leverage, the market's maximum quantity, the step), and the leverage the lowest that gives it (a
    lower leverage puts the liquidation price further away). Sizing the risk quantity alone would ask
    for more leverage than a position capped by the maximum quantity needs."""
    ceiling = market_max if market_max is not None else DEFAULT_MAX_LEVERAGE
    allowed = list(range(1, max(1, math.floor(ceiling + 1e-9)) + 1))
    if tiers:  # leverages no bracket allows are not candidates
        allowed = [lev for lev in allowed if max_notional_at_leverage(tiers, lev) is not None] or [1]
    best_qty, best = -1.0, float(allowed[0])
    for lev in allowed:
        qty, binding, _ = sized_at(float(lev))
        if qty > best_qty:
            best_qty, best = qty, float(lev)
        if binding in ("risk", "max_qty"):  # caps no leverage lifts: a higher one gives no more
            break
    return best


def _take_profits(
    specs: Sequence[TakeProfitSpec],
    side: Side,
    entry: float,
    qty: float,
    lpu: float,
    fee_entry: float,
    fee_exit: float,
    step: float | None,
    tick: float | None = None,
) -> tuple[TakeProfit, ...]:
    """The targets, each an R multiple's price on the tick toward the entry (what the exchange would
    take and never more than the multiple asked for: R and PnL are those of the rounded price), or a
    typed price as given."""
    explicit = 0.0
    implicit = 0
    for i, spec in enumerate(specs, 1):
        name = f"take-profit {i}"
        if (spec.r is None) == (spec.price is None):
            raise SizingError(name, "give an R multiple or a price, not both or neither")
        if spec.share is None:
            implicit += 1
            continue
        if not _finite(spec.share) or not 0 < spec.share <= 1:
            raise SizingError(
                name, f"its share must be more than 0% and at most 100%, not {_pct(spec.share)}"
            )
        explicit += spec.share
    if explicit > 1 + 1e-9:
        raise SizingError("take-profit", f"the shares add up to {_pct(explicit)}; at most 100% can be closed")
    rest = (1 - explicit) / implicit if implicit else 0.0
    if implicit and rest <= 1e-12:
        raise SizingError("take-profit", "the explicit shares leave nothing for the others")
    s = side_sign(side)
    breakeven = breakeven_price(side, entry, fee_entry, fee_exit)
    result: list[TakeProfit] = []
    for i, spec in enumerate(specs, 1):
        name = f"take-profit {i}"
        if spec.r is not None:
            if not _finite(spec.r) or spec.r <= 0:
                raise SizingError(name, f"an R multiple must be above 0, not {spec.r!r}")
            if s > 0:
                price = (entry * (1 + fee_entry) + spec.r * lpu) / (1 - fee_exit)
            else:
                price = (entry * (1 - fee_entry) - spec.r * lpu) / (1 + fee_exit)
            if price <= 0:
                raise SizingError(name, f"{spec.r:g}R would need a price below zero; use a smaller multiple")
            if price > MAX_PRICE:
                raise SizingError(name, f"{spec.r:g}R would need a price above {MAX_PRICE:g}")
            r = spec.r
            if tick:
                on_tick = floor_to_step(price, tick) if s > 0 else ceil_to_step(price, tick)
                per_unit = net_pnl_per_unit(side, entry, on_tick, fee_entry, fee_exit)
                if on_tick > 0 and per_unit > 0:
                    price, r = on_tick, per_unit / lpu
        else:
            price = cast(float, spec.price)  # None or non-finite is refused by _check_price
            _check_price(name, price)
            per_unit = net_pnl_per_unit(side, entry, price, fee_entry, fee_exit)
            if per_unit <= 0:
                where = "above" if s > 0 else "below"
                raise SizingError(
                    name,
                    f"{_num(price)} makes no profit after fees; "
                    f"a {side}'s target goes {where} {_num(breakeven)}",
                )
            r = per_unit / lpu
        share = spec.share if spec.share is not None else rest
        tp_qty = floor_to_step(qty * share, step)
        if i == len(specs) and abs(explicit + rest * implicit - 1) <= 1e-9:
            # Targets that close the whole position: the last one takes what rounding left over.
            tp_qty = max(0.0, _clean(qty - sum(tp.qty for tp in result), step))
        pnl = tp_qty * net_pnl_per_unit(side, entry, price, fee_entry, fee_exit)
        result.append(TakeProfit(r=r, price=price, share=share, qty=tp_qty, pnl=pnl))
    return tuple(result)


def _minimum_quantity(m: Market, entry: float) -> float | None:
    """The smallest quantity the market accepts at this price (min quantity and min notional)."""
    needs: list[float] = []
    if m.min_qty is not None and m.min_qty > 0:
        needs.append(m.min_qty)
    if m.min_notional is not None and m.min_notional > 0:
        needs.append(ceil_to_step(m.min_notional / entry, m.amount_step))
    if not needs:
        return m.amount_step if m.amount_step else None
    return max(needs)


def _with_warnings(r: SizingResult, req: SizingRequest, budget: float) -> SizingResult:
    warnings: list[SizingWarning] = []
    m = req.market
    tick = m.price_tick
    if r.liquidation_price is not None and r.stop_liquidation_gap is not None and r.stop_liquidation_gap <= 0:
        warnings.append(
            SizingWarning(
                "stop_beyond_liquidation",
                f"the stop {_price(r.stop, tick)} lies beyond the liquidation price "
                f"{_price(r.liquidation_price, tick)}: "
                "it can never fill; lower the leverage or move the stop",
            )
        )
    if r.quantity > 0:
        tier = tier_allowing(m.tiers, r.notional)
        if tier is not None and r.leverage > tier.max_leverage:
            warnings.append(
                SizingWarning(
                    "leverage_above_tier",
                    f"{_num(r.leverage)}x is above the {_num(tier.max_leverage)}x the bracket allows for "
                    f"{_money(r.notional)} {m.settle} of notional",
                )
            )
    if not r.tradable:
        warnings.append(_minimum_warning(r, m))
    max_risk = req.max_risk_fraction
    if max_risk is not None and budget > max_risk * r.equity * (1 + 1e-12):
        warnings.append(
            SizingWarning(
                "risk_above_max",
                f"the risk budget {_money(budget)} ({_pct(budget / r.equity)} of equity) is above your "
                f"maximum of {_pct(max_risk)} per trade",
            )
        )
    if r.funding_apr is not None and -r.funding_apr > req.funding_warn_apr:
        warnings.append(
            SizingWarning(
                "funding_against",
                f"funding costs this {r.side} {_pct(-r.funding_apr)} a year at the current rate "
                f"(warning above {_pct(req.funding_warn_apr)})",
            )
        )
    if r.quantity > 0 and r.liquidation_price is None and not r.never_liquidated:
        why = (
            "the maintenance margin of your other positions is not known"
            if r.margin_mode == "cross" and req.cross_balance is None and req.other_maintenance is None
            else "the market's margin brackets are not known"
        )
        warnings.append(SizingWarning("liquidation_unknown", f"the liquidation price is unknown: {why}"))
    if m.tiers_note:
        warnings.append(SizingWarning("tiers_corrected", f"{m.symbol}: {m.tiers_note}"))
    if r.tiers_approximate:
        warnings.append(
            SizingWarning(
                "tiers_approximate",
                "the exchange's margin brackets are unknown: "
                "the liquidation price uses conservative defaults",
            )
        )
    return _replace_warnings(r, tuple(warnings))


def _minimum_warning(r: SizingResult, m: Market) -> SizingWarning:
    if r.min_quantity is None:
        return SizingWarning("below_min_qty", "the budget buys nothing at this stop distance")
    code = "below_min_qty"
    why = f"the minimum quantity {_qty(r.min_quantity, m.amount_step)}"
    if (
        m.min_notional
        and r.min_quantity * r.entry >= m.min_notional
        and (m.min_qty is None or r.min_quantity > m.min_qty)
    ):
        code = "below_min_notional"
        why = (
            f"the minimum order of {_num(m.min_notional)} {m.settle} ({_qty(r.min_quantity, m.amount_step)})"
        )
    risk = r.min_quantity_risk or 0.0
    return SizingWarning(
        code,
        f"{_qty(r.quantity, m.amount_step)} is below {why}; the minimum size would risk {_money(risk)} "
        f"({_pct(risk / r.equity)} of equity)",
    )


def _replace_warnings(r: SizingResult, warnings: tuple[SizingWarning, ...]) -> SizingResult:
    from dataclasses import replace

    return replace(r, warnings=warnings)


def binding_description(r: SizingResult) -> str:
    """Which constraint decided the size, in words."""
    if r.binding_constraint == "risk":
        return f"risk: a stop-out loses at most the {_money(r.risk_budget)} budget"
    if r.binding_constraint == "margin":
        return f"margin: the free margin buys no more at {_num(r.leverage)}x"
    if r.binding_constraint == "tier":
        cap = r.limits.get("tier")
        cap_text = _money(cap * r.entry) if cap is not None else "its cap"
        return f"tier: at {_num(r.leverage)}x the brackets allow at most {cap_text} of notional"
    return f"max quantity: the market takes at most {_num(r.limits.get('max_qty') or 0)} per order"


# --- Kelly ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KellyResult:
    full: float  # f* = p - (1 - p) / b, floored at 0
    fraction: float  # the share of Kelly used (0.5: half Kelly)
    suggested: float  # fraction x full, capped by the maximum risk per trade
    capped: bool  # the cap decided


def kelly(win_rate: float, payoff: float, *, fraction: float = 0.5, cap: float | None = None) -> KellyResult:
    """Risk per trade from the Kelly criterion: ``f* = p - (1 - p) / b``; a fraction of it (half Kelly),
    never negative, capped by the maximum risk per trade. ``win_rate`` is a fraction, ``payoff`` the
    average win / average loss."""
    if not _finite(win_rate) or not 0 <= win_rate <= 1:
        raise SizingError("win rate", f"must be between 0% and 100%, not {_pct(win_rate)}")
    if not _finite(payoff) or payoff <= 0:
        raise SizingError("payoff ratio", f"must be above 0 (average win / average loss), not {payoff!r}")
    if not _finite(fraction) or not 0 < fraction <= 1:
        raise SizingError("Kelly fraction", f"must be more than 0 and at most 1, not {fraction!r}")
    full = max(0.0, win_rate - (1 - win_rate) / payoff)
    suggested = fraction * full
    capped = cap is not None and suggested > cap
    return KellyResult(
        full=full,
        fraction=fraction,
        suggested=min(suggested, cap) if capped and cap is not None else suggested,
        capped=capped,
    )


# --- checks -----------------------------------------------------------------------------------------


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_side(side: str) -> Side:
    if side not in ("long", "short"):
        raise SizingError("side", f"must be long or short, not {side!r}")
    return cast(Side, side)


def _check_positive(name: str, value: object, accepted: str) -> float:
    if not _finite(value):
        raise SizingError(name, f"must be {accepted}, not {value!r}")
    if value <= 0:
        raise SizingError(name, f"must be {accepted}, not {_num(value)}")
    return float(value)


def _check_price(name: str, value: object) -> float:
    price = _check_positive(name, value, "a price above 0")
    if not MIN_PRICE <= price <= MAX_PRICE:
        handled = f"{MIN_PRICE:g} to {MAX_PRICE:g}"
        raise SizingError(name, f"{_num(price)} is outside the prices the calculator handles ({handled})")
    return price


def _check_amount(name: str, value: float) -> float:
    if abs(value) > MAX_AMOUNT:
        raise SizingError(name, f"{_num(value)} is beyond what the calculator handles ({MAX_AMOUNT:g})")
    return value


def _risk_budget(req: SizingRequest, equity: float) -> float:
    if (req.risk_fraction is None) == (req.risk_amount is None):
        raise SizingError("risk", "give the risk as a % of equity or as an amount, exactly one")
    if req.risk_fraction is not None:
        f = req.risk_fraction
        if not _finite(f) or not 0 < f <= 1:
            raise SizingError("risk", f"must be more than 0% and at most 100% of equity, not {_pct(f)}")
        return f * equity
    amount = req.risk_amount
    if not _finite(amount) or amount <= 0:
        raise SizingError("risk", f"must be an amount above 0, not {amount!r}")
    if amount > equity:
        raise SizingError("risk", f"{_money(amount)} is more than the equity {_money(equity)}")
    return float(amount)


def check_fee(name: str, given: float | None, default: float | None) -> float:
    """The taker fee given (else the market's), a fraction from 0 to under ``MAX_FEE``; SizingError else."""
    fee = given if given is not None else default
    if fee is None:
        raise SizingError(name, "the market does not publish its taker fee; give one (e.g. 0.0005 for 0.05%)")
    if not _finite(fee) or not 0 <= fee < MAX_FEE:
        raise SizingError(
            name, f"must be a fraction from 0 to under {MAX_FEE:g} (0.0005 = 0.05%), not {fee!r}"
        )
    return float(fee)


def check_slippage(bps: float) -> float:
    if not _finite(bps) or not 0 <= bps < MAX_SLIPPAGE_BPS:
        raise SizingError("slippage", f"must be from 0 to under {MAX_SLIPPAGE_BPS:g} bps, not {bps!r}")
    return float(bps)


def _check_leverage(value: object, market_max: float | None, symbol: str) -> float:
    if not _finite(value):
        raise SizingError("leverage", f"must be a number from 1, not {value!r}")
    lev = float(value)
    if lev < 1:
        raise SizingError("leverage", f"{_num(lev)}x is below 1x; leverage starts at 1")
    if market_max is not None and lev > market_max:
        raise SizingError("leverage", f"{_num(lev)}x is above {symbol}'s maximum of {_num(market_max)}x")
    if lev > MAX_LEVERAGE:
        raise SizingError("leverage", f"{_num(lev)}x is above the {MAX_LEVERAGE:g}x the calculator handles")
    return lev


def _price(value: float, tick: float | None) -> str:
    """A price in a message at the market's tick: the one price format (``domain.precision``)."""
    return fmt.price(value, tick)


def _qty(value: float, step: float | None) -> str:
    return fmt.qty(value, step)


def _num(value: float) -> str:
    """A number as given, 8 significant digits, never an exponent; ``nan``/``inf`` as themselves."""
    return fmt.num(value, 8) if math.isfinite(value) else repr(value)


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _pct(value: object) -> str:
    if _finite(value):
        return f"{value * 100:.4g}%"
    return repr(value)
