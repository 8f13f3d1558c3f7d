"""The neutral base: spot + opposite perp at equal notional on the perps with the best net carry.

1. Candidates: perps with a spot twin and a funding history covering the lookback. Each is priced as
   the scanner prices a carry (``domain.carry``): the mean funding APR over the lookback (sum of the
   window's rates x 365 / days), less the round trip (2 x (spot + perp taker) + slippage) amortised over
   ``hold_days``. Negative funding means long perp + short spot, which needs a spot borrow: skipped
   with a note unless ``allow_spot_short`` (then charged ``borrow_apr``).
2. Those netting ``min_carry_apr`` or more, best first, at most ``neutral_count``.
3. Weights within the layer (long-only, summing to 1, each at most ``neutral_max_weight``, raised to
   1 / pairs when fewer pairs qualify) by the optimiser's max_utility on the pairs' net carry APR and
   the covariance of their daily funding income (per unit of notional, signed by the carry's side,
   annualised like daily returns).
4. Pair i ties up spot notional N + perp margin N / L (L = ``neutral_leverage``), so
   N = weight x layer capital / (1 + 1 / L): weight x capital / 2 at 1x. The spot leg takes the perp
   leg's rounded quantity, so both legs have the same quantity and notional (valued at the perp's mark;
   the basis is not modelled).

The layer's variance is that of the funding stream only: the price moves of the two legs cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perptui.domain.carry import Carry, carry
from perptui.domain.errors import UsageError
from perptui.domain.estimators import covariance
from perptui.domain.funding_stats import history_stats
from perptui.domain.optimize import OptimizeResult, PortfolioProblem, optimize
from perptui.domain.timeframes import DAY_MS
from perptui.domain.types import Side

from .config import PlanConfig, PlanInputs, Series
from .legs import PlanLeg, listed
from .rounding import sized


@dataclass(frozen=True, slots=True)
class CarryPick:
    symbol: str
    carry: Carry
    earn_sign: float  # +1: the short perp earns funding (long spot); -1: the long perp does


@dataclass(frozen=True, slots=True)
class NeutralLayer:
    legs: tuple[PlanLeg, ...]
    picks: tuple[CarryPick, ...]
    weights: np.ndarray  # within the layer, before rounding, one per pick
    cov: np.ndarray | None  # yearly covariance of the picks' funding income
    optimizer: OptimizeResult | None
    notes: tuple[str, ...]


def mean_funding_apr(prints: Series, now: int, days: int, interval_h: float | None) -> float | None:
    """Sum of the prints' rates in (now - days, now] x 365 / days; None when the history does not
    cover the window (``funding_stats``' rule)."""
    if not prints:
        return None
    times, rates = zip(*prints, strict=True)
    stats = history_stats(times, rates, now, windows=(days,), fallback_interval_h=interval_h)
    return stats.mean_apr[days]


def daily_income(prints: Series, now: int, days: int, sign: float) -> np.ndarray:
    """Funding earned per unit of notional in each of the ``days`` days ending at ``now`` (oldest first)."""
    start = now - days * DAY_MS
    out = np.zeros(days)
    for t, rate in prints:
        if start < t <= now:
            out[min(days - 1, (t - start - 1) // DAY_MS)] += sign * rate
    return out


def rank_carries(
    inputs: PlanInputs, config: PlanConfig, perp_taker: dict[str, float | None]
) -> tuple[list[CarryPick], list[str]]:
    """Qualifying carries, best net APR first (at most ``neutral_count``), and notes on what was left out."""
    notes: list[str] = []
    found: list[CarryPick] = []
    no_history: list[str] = []
    needs_borrow: list[str] = []
    for symbol in sorted(inputs.spot_available):
        if symbol not in inputs.markets:
            continue
        mean = mean_funding_apr(
            inputs.funding.get(symbol, []), inputs.now, config.lookback_days, inputs.intervals_h.get(symbol)
        )
        if mean is None:
            no_history.append(symbol)
            continue
        c = carry(
            mean,
            spot_taker=config.spot_taker,
            perp_taker=perp_taker.get(symbol),
            slippage=config.slippage,
            hold_days=config.hold_days,
            borrow_apr=config.borrow_apr,
        )
        if c is None:
            notes.append(f"neutral: {symbol} has no taker fee: its carry cannot be priced")
            continue
        if c.net_apr < config.min_carry_apr:
            continue
        if c.direction == "long_perp_short_spot" and not config.allow_spot_short:
            needs_borrow.append(symbol)
            continue
        found.append(CarryPick(symbol, c, 1.0 if c.direction == "long_spot_short_perp" else -1.0))
    if no_history:
        notes.append(
            f"neutral: {len(no_history)} perp(s) with a spot twin lack {config.lookback_days} days "
            f"of funding history: {listed(no_history)}"
        )
    if needs_borrow:
        notes.append(
            f"neutral: {listed(needs_borrow)} would carry long perp + short spot (negative funding), which "
            "needs a spot borrow: left out (allow_spot_short includes them at borrow_apr)"
        )
    found.sort(key=lambda p: (-p.carry.net_apr, p.symbol))
    return found[: config.neutral_count], notes


def neutral_weights(
    picks: list[CarryPick], inputs: PlanInputs, config: PlanConfig
) -> tuple[np.ndarray, np.ndarray, OptimizeResult]:
    """(weights within the layer, yearly covariance of the funding income, the solve)."""
    days = config.lookback_days
    income = np.column_stack(
        [daily_income(inputs.funding.get(p.symbol, []), inputs.now, days, p.earn_sign) for p in picks]
    )
    cov = covariance(income, "1d", config.covariance)
    cap = max(config.neutral_max_weight, 1.0 / len(picks))
    problem = PortfolioProblem(
        mu=np.array([p.carry.net_apr for p in picks]),
        cov=cov,
        objective="max_utility",
        risk_aversion=config.risk_aversion,
        bounds=(0.0, cap),
        net_min=1.0,
        net_max=1.0,
        assets=tuple(p.symbol for p in picks),
    )
    result = optimize(problem)
    return np.clip(result.weights, 0.0, None), cov, result


def neutral_layer(inputs: PlanInputs, config: PlanConfig, capital: float, total: float) -> NeutralLayer:
    """The neutral base on ``capital`` (the layer's share); leg weights relative to ``total``."""
    if capital <= 0 or config.neutral_count == 0:
        return NeutralLayer((), (), np.zeros(0), None, None, ())
    taker = {s: m.taker_fee for s, m in inputs.markets.items()}
    picks, notes = rank_carries(inputs, config, taker)
    if not picks:
        notes.append(
            f"neutral: no perp with a spot twin nets {config.min_carry_apr:.1%} APR or more over "
            f"{config.lookback_days} days: the layer is empty"
        )
        return NeutralLayer((), (), np.zeros(0), None, None, tuple(notes))
    try:
        weights, cov, result = neutral_weights(picks, inputs, config)
    except UsageError as exc:
        notes.append(f"neutral: the optimiser could not weight the carries ({exc}): the layer is empty")
        return NeutralLayer((), tuple(picks), np.zeros(0), None, None, tuple(notes))
    legs: list[PlanLeg] = []
    per_pair = capital / (1.0 + 1.0 / config.neutral_leverage)
    for pick, w in zip(picks, weights, strict=True):
        market, mark = inputs.markets[pick.symbol], inputs.marks.get(pick.symbol)
        if mark is None:
            notes.append(f"neutral: no mark for {pick.symbol}: left out")
            continue
        qty, why = sized(market, float(w) * per_pair, mark)
        if why is not None:
            if w > 1e-9:
                notes.append(f"neutral: {pick.symbol} dropped: {why}")
            continue
        notional = qty * mark
        perp_side: Side = "short" if pick.earn_sign > 0 else "long"
        spot_side: Side = "long" if pick.earn_sign > 0 else "short"
        sgn = 1.0 if spot_side == "long" else -1.0
        legs.append(
            PlanLeg(pick.symbol, "spot", spot_side, qty, notional, sgn * notional / total, notional, 0.0, 0.0,
                    "neutral")
        )  # fmt: skip
        legs.append(
            PlanLeg(pick.symbol, "perp", perp_side, qty, notional, -sgn * notional / total,
                    notional / config.neutral_leverage, pick.carry.net_apr, None, "neutral")
        )  # fmt: skip
    return NeutralLayer(tuple(legs), tuple(picks), weights, cov, result, tuple(notes))
