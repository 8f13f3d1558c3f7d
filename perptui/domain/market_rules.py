"""Market rules: what an exchange accepts of an order, checked (one refusal line) or rounded. Pure,
standard library only (the panes may import it before the first frame).

The rules of a market (``rules_of``), Binance USDⓈ-M's filters as ccxt reports them:

- quantity: a multiple of the amount step, at least the minimum quantity, at most the maximum; the
  order's notional (quantity x its limit price, else x the mark) at least the minimum notional. An
  order that only reduces a position is exempt from the minimum notional (Binance exempts reduce-only
  orders) and closing a whole position is always accepted;
- prices (a limit, a stop, a take-profit): above 0 and a multiple of the tick;
- leverage: from 1x, a multiple of the venue's leverage step (``LEVERAGE_STEPS``: whole numbers unless
  the venue is known to take decimals), at most the market's maximum and the maximum of the bracket that
  holds the position's notional.

``check_order`` returns the first rule an order breaks as a ``Refusal`` (one line naming the rule and
the nearest valid value) and ``refuse`` raises it as ``OrderRefused`` (a UsageError: exit 2 on the
CLI). ``round_order`` makes an order the exchange accepts out of a derived one (a sizing ticket, a
plan's trade): the quantity DOWN to the step; a limit price to the tick never worse for the trader (a
buy down, a sell up); a stop and take-profits to the tick TOWARD the entry (a long's stop up and its
targets down, a short's the other way), so rounding never adds to the loss at the stop nor asks for a
better price than the one given; leverage to the nearest step within the bracket.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from perptui.domain import precision
from perptui.domain.errors import UsageError
from perptui.domain.liquidation import max_notional_at_leverage
from perptui.domain.types import LeverageTier, Market, Side

#: Leverage steps of venues that take more than whole numbers; every other venue (Binance, the demo
#: market, one not known) takes whole leverage, which every venue accepts.
LEVERAGE_STEPS: dict[str, float] = {"bybit": 0.01, "okx": 0.01}
WHOLE_LEVERAGE = 1.0

Rule = Literal[
    "positive",
    "step",
    "min_qty",
    "min_notional",
    "max_qty",
    "tick",
    "stop_side",
    "leverage_step",
    "leverage_max",
    "leverage_bracket",
]
Field = Literal["quantity", "price", "stop", "take_profit", "leverage"]


# --- the grid of a step or a tick ------------------------------------------------------------------


def steps_to_qty(n: int, step: float | None) -> float:
    """``n`` steps as a clean float (0.1 x 3 = 0.3, not 0.30000000000000004)."""
    if step is None:
        raise ValueError("no step")
    return round(n * step, precision.step_decimals(step))


def floor_to_step(qty: float, step: float | None) -> float:
    """Round down to a multiple of the step (a quantity, or a price to a tick); unchanged without one."""
    if step is None or step <= 0:
        return qty
    n = math.floor(qty / step + 1e-9)
    while n > 0 and steps_to_qty(n, step) > qty:
        n -= 1
    return steps_to_qty(max(n, 0), step)


def ceil_to_step(qty: float, step: float | None) -> float:
    """Round up to a multiple of the step; unchanged without one."""
    if step is None or step <= 0:
        return qty
    n = math.ceil(qty / step - 1e-9)
    while steps_to_qty(n, step) < qty:
        n += 1
    return steps_to_qty(n, step)


def on_grid(value: float, grid: float | None) -> bool:
    """``value`` is a whole number of ``grid`` (to float precision); always True without a grid."""
    if grid is None or not grid > 0:
        return True
    n = value / grid
    return abs(n - round(n)) <= 1e-9 + abs(n) * 1e-14


# --- the rules of a market --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What the exchange accepts on one market. None: the market does not say (no such rule)."""

    symbol: str
    step: float | None = None
    tick: float | None = None
    min_qty: float | None = None
    max_qty: float | None = None
    min_notional: float | None = None
    max_leverage: float | None = None
    leverage_step: float | None = WHOLE_LEVERAGE
    tiers: tuple[LeverageTier, ...] = ()
    settle: str = "USDT"


def _given(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and value > 0 else None


def rules_of(market: Market) -> MarketRules:
    """The rules of ``market`` (its filters and brackets; the venue's leverage step)."""
    return MarketRules(
        symbol=market.symbol,
        step=_given(market.amount_step),
        tick=_given(market.price_tick),
        min_qty=_given(market.min_qty),
        max_qty=_given(market.max_qty),
        min_notional=_given(market.min_notional),
        max_leverage=_given(market.max_leverage),
        leverage_step=LEVERAGE_STEPS.get(market.exchange, WHOLE_LEVERAGE),
        tiers=tuple(market.tiers),
        settle=market.settle,
    )


def as_rules(market: Market | MarketRules) -> MarketRules:
    return market if isinstance(market, MarketRules) else rules_of(market)


# --- refusals ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """The first rule an order breaks: ``message`` is one line naming it and the nearest valid value
    (``nearest``; None when no value of that field can be accepted)."""

    rule: Rule
    field: Field
    value: float
    nearest: float | None
    message: str

    def __str__(self) -> str:
        return self.message


class OrderRefused(UsageError):
    """An order the exchange would refuse; ``refusal`` says which rule and the nearest valid value."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(refusal.message)


def _num(value: float) -> str:
    """A value as typed: plain digits in the usual range, an exponent for absurd ones (1e-300)."""
    if not math.isfinite(value) or (value != 0 and not 1e-8 <= abs(value) < 1e15):
        return f"{value:g}"
    return precision.num(value, 10)


def _qty(r: MarketRules, value: float) -> str:
    return precision.qty(value, r.step)


def _price(r: MarketRules, value: float) -> str:
    return precision.price(value, r.tick)


def _lev(value: float) -> str:
    return f"{_num(value)}x"


# --- quantities -------------------------------------------------------------------------------------


def contract_lot(market: Market) -> float | None:
    """The exchange's lot in contracts (the amount step is contract size x lot): OKX's BTC 0.01, Gate 1."""
    step = _given(market.amount_step)
    if step is None or not market.contract_size > 0:
        return None
    return round(step / market.contract_size, precision.step_decimals(step) + 12)


def in_contracts(qty: float, market: Market) -> float:
    """A quantity in base units as the exchange's contracts (``qty / contract_size``), clean to the lot's
    decimals: 0.037 BTC on OKX (0.01 BTC a contract) is 3.7 contracts. Unchanged at a contract size of 1."""
    size = market.contract_size
    if not size > 0 or size == 1:
        return qty
    lot = contract_lot(market)
    contracts = qty / size
    return round(contracts, precision.step_decimals(lot)) if lot else contracts


def smallest_qty(market: Market | MarketRules, price: float) -> float | None:
    """The smallest quantity the market accepts at ``price`` (step, minimum quantity and notional)."""
    r = as_rules(market)
    needs = [x for x in (r.min_qty, r.step) if x is not None]
    if r.min_notional is not None and price > 0:
        needs.append(ceil_to_step(r.min_notional / price, r.step))
    if not needs:
        return None
    return ceil_to_step(max(needs), r.step)


def round_qty(market: Market | MarketRules, qty: float) -> float:
    """``qty`` down to the step and to the maximum quantity (0 when less than a step)."""
    r = as_rules(market)
    if not math.isfinite(qty) or qty <= 0:
        return 0.0
    if r.max_qty is not None:
        qty = min(qty, r.max_qty)
    return floor_to_step(qty, r.step)


def check_qty(
    market: Market | MarketRules, qty: float, price: float, *, reducing: bool = False
) -> Refusal | None:
    """The quantity of an order at ``price`` (its limit price, else the mark). ``reducing``: it only
    reduces a position (no minimum notional)."""
    r = as_rules(market)
    sym = r.symbol
    smallest = smallest_qty(r, price) if not reducing else (r.min_qty or r.step)
    if not math.isfinite(qty) or qty <= 0:
        return Refusal(
            "positive", "quantity", qty, smallest, f"the quantity must be above 0, not {_num(qty)}"
        )
    least = max((x for x in (r.min_qty, r.step) if x is not None), default=None)
    if least is not None and qty < least * (1 - 1e-9):
        return Refusal(
            "min_qty",
            "quantity",
            qty,
            smallest,
            f"quantity {_num(qty)} is below {sym}'s minimum quantity {_qty(r, least)}: the smallest "
            f"valid quantity{'' if reducing else f' at {_price(r, price)}'} is {_qty(r, smallest or least)}",
        )
    if not on_grid(qty, r.step):
        down = floor_to_step(qty, r.step)
        near = down if down >= (smallest or 0.0) else smallest
        return Refusal(
            "step",
            "quantity",
            qty,
            near,
            f"quantity {_num(qty)} is not a multiple of {sym}'s step {_num(r.step or 0.0)}: "
            f"the nearest valid quantity is {_qty(r, near or down)}",
        )
    if r.max_qty is not None and qty > r.max_qty * (1 + 1e-9):
        most = floor_to_step(r.max_qty, r.step)
        return Refusal(
            "max_qty",
            "quantity",
            qty,
            most,
            f"quantity {_qty(r, qty)} is above {sym}'s maximum of {_qty(r, most)} per order: "
            f"the largest valid quantity is {_qty(r, most)}",
        )
    if not reducing and r.min_notional is not None and qty * price < r.min_notional * (1 - 1e-9):
        return Refusal(
            "min_notional",
            "quantity",
            qty,
            smallest,
            f"notional {qty * price:,.2f} {r.settle} ({_qty(r, qty)} at {_price(r, price)}) is below "
            f"{sym}'s minimum order of {_num(r.min_notional)} {r.settle}: the smallest valid quantity "
            f"is {_qty(r, smallest or 0.0)}",
        )
    return None


# --- prices -----------------------------------------------------------------------------------------

PriceRounding = Literal["down", "up"]


def round_price(market: Market | MarketRules, price: float, direction: PriceRounding) -> float:
    """``price`` to the tick, ``down`` or ``up`` (unchanged without a tick). A price under one tick
    rounded down is 0, which ``check_price`` refuses: rounding never moves a price the other way."""
    r = as_rules(market)
    if r.tick is None:
        return price
    return floor_to_step(price, r.tick) if direction == "down" else ceil_to_step(price, r.tick)


def limit_rounding(side: Side) -> PriceRounding:
    """A limit never worse for the trader: a buy (long) down, a sell (short) up."""
    return "down" if side == "long" else "up"


def level_rounding(side: Side, which: Literal["stop", "take_profit"]) -> PriceRounding:
    """A stop or take-profit of a ``side`` position TOWARD its entry: a long's stop up and its
    take-profit down; a short's stop down and its take-profit up."""
    toward_entry_from_below = (side == "long") == (which == "stop")
    return "up" if toward_entry_from_below else "down"


_PRICE_NAMES = {"price": "limit price", "stop": "stop", "take_profit": "take-profit"}


def check_price(
    market: Market | MarketRules, price: float, field: Field = "price", rounding: PriceRounding = "down"
) -> Refusal | None:
    """A limit price, a stop or a take-profit: above 0 and on the tick. ``rounding`` gives the nearest
    valid value named in the refusal (see ``limit_rounding`` and ``level_rounding``)."""
    r = as_rules(market)
    name = _PRICE_NAMES.get(field, field)
    lowest = r.tick
    if not math.isfinite(price) or price <= 0:
        return Refusal(
            "positive", field, price, lowest, f"the {name} must be a price above 0, not {_num(price)}"
        )
    if r.tick is not None and price < r.tick * (1 - 1e-9):
        return Refusal(
            "tick",
            field,
            price,
            r.tick,
            f"{name} {_num(price)} is below {r.symbol}'s tick {_num(r.tick)}: the lowest valid price is "
            f"{_price(r, r.tick)}",
        )
    if not on_grid(price, r.tick):
        near = round_price(r, price, rounding)
        return Refusal(
            "tick",
            field,
            price,
            near,
            f"{name} {_num(price)} is not a multiple of {r.symbol}'s tick {_num(r.tick or 0.0)}: "
            f"the nearest valid {name} is {_price(r, near)}",
        )
    return None


# --- leverage ---------------------------------------------------------------------------------------


def bracket_max(market: Market | MarketRules, notional: float) -> float | None:
    """The highest leverage the market allows for a position of ``notional``: its own maximum and the
    maximum of the first bracket whose cap holds the notional (a notional at a cap is still allowed)."""
    r = as_rules(market)
    limits = [x for x in (r.max_leverage,) if x is not None]
    if r.tiers:
        n = abs(notional)
        tier = next((t for t in r.tiers if n <= t.max_notional), None)
        limits.append(tier.max_leverage if tier is not None else 0.0)
    return min(limits) if limits else None


def _leverage_floor(r: MarketRules, value: float) -> float:
    return floor_to_step(value, r.leverage_step) if r.leverage_step else value


def round_leverage(market: Market | MarketRules, leverage: float, notional: float = 0.0) -> float:
    """``leverage`` to the nearest step the venue takes, at most what the brackets allow for
    ``notional``, at least 1x."""
    r = as_rules(market)
    step = r.leverage_step
    value = leverage if not step else steps_to_qty(round(leverage / step), step)
    cap = bracket_max(r, notional)
    if cap is not None:
        value = min(value, max(1.0, _leverage_floor(r, cap)))
    return max(1.0, value)


def check_leverage(
    market: Market | MarketRules, leverage: float, notional: float, *, on_step: bool = True
) -> Refusal | None:
    """Leverage for a position of ``notional``: from 1x, on the venue's step (unless ``on_step`` is
    False: a position already open keeps its leverage), within the market's maximum and its bracket's."""
    r = as_rules(market)
    sym = r.symbol
    if not math.isfinite(leverage) or leverage < 1:
        return Refusal(
            "positive",
            "leverage",
            leverage,
            1.0,
            f"leverage {_lev(leverage)} is below 1x; leverage starts at 1x",
        )
    if on_step and not on_grid(leverage, r.leverage_step):
        near = round_leverage(r, leverage, notional)
        what = (
            "whole numbers"
            if r.leverage_step == WHOLE_LEVERAGE
            else f"steps of {_num(r.leverage_step or 0)}x"
        )
        return Refusal(
            "leverage_step",
            "leverage",
            leverage,
            near,
            f"leverage {_lev(leverage)} is not accepted: {sym} takes leverage in {what}; "
            f"the nearest valid leverage is {_lev(near)}",
        )
    if r.max_leverage is not None and leverage > r.max_leverage * (1 + 1e-9):
        most = _leverage_floor(r, r.max_leverage)
        return Refusal(
            "leverage_max",
            "leverage",
            leverage,
            most,
            f"{sym} allows at most {_lev(most)} leverage, not {_lev(leverage)}",
        )
    if not r.tiers:
        return None
    cap = max_notional_at_leverage(r.tiers, leverage)
    if cap is not None and abs(notional) <= cap * (1 + 1e-9):
        return None
    highest = bracket_max(r, notional)
    valid = max(1.0, _leverage_floor(r, highest)) if highest is not None and highest >= 1 else None
    fix = f"the highest valid leverage for it is {_lev(valid)}" if valid else "lower the quantity"
    if cap is None:
        message = f"{_lev(leverage)} is above every leverage bracket of {sym}: {fix}"
    else:
        message = (
            f"at {_lev(leverage)} {sym} allows positions up to {cap:,.2f} {r.settle} of notional; this one "
            f"would be {abs(notional):,.2f}: {fix}"
        )
    return Refusal("leverage_bracket", "leverage", leverage, valid, message)


# --- orders -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order as the rules see it. ``price``: the limit price (None: a market order at ``mark``).
    ``leverage`` None: the position's or the engine's own (not checked here). ``reducing``: it only
    reduces a position; ``closes_all``: it closes a whole position (always accepted).
    ``position_notional``: the notional of the position after it, for the bracket (default: the
    order's own)."""

    side: Side
    qty: float
    price: float | None = None
    mark: float | None = None
    leverage: float | None = None
    stop: float | None = None
    take_profits: tuple[float, ...] = ()
    reducing: bool = False
    closes_all: bool = False
    position_notional: float | None = None

    @property
    def reference(self) -> float | None:
        """The price the order's notional is measured at."""
        return self.price if self.price is not None else self.mark


def check_order(market: Market | MarketRules, order: OrderSpec) -> Refusal | None:
    """The first rule ``order`` breaks, None when the exchange would accept it."""
    r = as_rules(market)
    if order.price is not None and (
        refused := check_price(r, order.price, "price", limit_rounding(order.side))
    ):
        return refused
    reference = order.reference
    if not order.closes_all:
        if reference is None or not reference > 0:
            raise ValueError("check_order needs the limit price or the mark")
        if refused := check_qty(r, order.qty, reference, reducing=order.reducing):
            return refused
    if order.stop is not None and (
        refused := check_price(r, order.stop, "stop", level_rounding(order.side, "stop"))
    ):
        return refused
    for tp in order.take_profits:
        if refused := check_price(r, tp, "take_profit", level_rounding(order.side, "take_profit")):
            return refused
    if order.leverage is not None and not order.reducing:
        notional = order.position_notional
        if notional is None:
            notional = order.qty * (reference or 0.0)
        if refused := check_leverage(r, order.leverage, notional):
            return refused
    return None


def refuse(market: Market | MarketRules, order: OrderSpec) -> None:
    """Raise ``OrderRefused`` (one line, exit 2 on the CLI) when ``order`` breaks a rule."""
    if (refused := check_order(market, order)) is not None:
        raise OrderRefused(refused)


def round_order(market: Market | MarketRules, order: OrderSpec) -> OrderSpec:
    """``order`` as the exchange accepts it (see the module docstring). The quantity may round to 0 or
    stay below the minimum: ``check_order`` on the result says so."""
    r = as_rules(market)
    price = None if order.price is None else round_price(r, order.price, limit_rounding(order.side))
    qty = order.qty if order.closes_all else round_qty(r, order.qty)
    stop = None if order.stop is None else round_price(r, order.stop, level_rounding(order.side, "stop"))
    tps = tuple(round_price(r, tp, level_rounding(order.side, "take_profit")) for tp in order.take_profits)
    leverage = order.leverage
    if leverage is not None:
        notional = order.position_notional
        if notional is None:
            notional = qty * ((price if price is not None else order.mark) or 0.0)
        leverage = round_leverage(r, leverage, notional)
    return replace(order, qty=qty, price=price, stop=stop, take_profits=tps, leverage=leverage)


def fit_qty(market: Market | MarketRules, qty: float, price: float) -> tuple[float, Refusal | None]:
    """``qty`` rounded down to what the market accepts at ``price`` for an order that opens or adds:
    (quantity, None), or (0, the rule that leaves nothing)."""
    r = as_rules(market)
    rounded = round_qty(r, qty)
    refused = check_qty(r, rounded if rounded > 0 else qty, price)
    if rounded <= 0 and refused is None:
        refused = check_qty(r, 0.0, price)
    return (0.0, refused) if refused is not None else (rounded, None)
