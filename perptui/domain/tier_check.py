"""The one consistency check for maintenance-margin brackets, whatever their source (exchange, file,
cache). Pure.

A ladder is usable when every bracket has finite numbers, ``0 <= min_notional < max_notional``, a rate
``0 < mmr < 1``, a leverage ``>= 1`` whose initial margin covers the maintenance margin
(``max_leverage x mmr <= 1``), and the brackets ascend without overlapping, their rates never falling.

Its ``cum`` (``maint_amount``) is consistent when the maintenance margin ``N x mmr - cum`` starts at the
first bracket's own rate (``cum`` 0), is never negative, and never falls where a bracket starts:
``cum_k - cum_(k-1) <= min_k x (mmr_k - mmr_(k-1))``. Binance's continuous ``cum`` meets it with
equality; OKX's and KuCoin's rule (the tier's rate on the whole notional, ``cum`` 0) meets it too.
A ``cum`` that breaks it (the issue's ``-inf`` or ``1e308``) is recomputed as Binance does, keeping the
maintenance margin continuous, and the check says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from perptui.domain.tiers import continuous_maint_amounts, default_tiers
from perptui.domain.types import LeverageTier

#: Rounding allowed in a source's ``cum``: a cent, or a millionth of the bracket's margin.
_CUM_SLACK_ABS = 0.01
_CUM_SLACK_REL = 1e-6


class TierProblem(ValueError):
    """Why a ladder cannot be used, in words (``tier 2: mmr 1.5 is not a fraction in (0, 1)``)."""


@dataclass(frozen=True, slots=True)
class TierCheck:
    """A checked ladder: ``tiers`` with ``cum`` recomputed where the source's contradicted the brackets
    (``warning`` says so; None when the ladder was consistent as given)."""

    tiers: tuple[LeverageTier, ...]
    warning: str | None = None


def _num(value: float) -> str:
    return f"{value:g}"


def _check_bracket(n: int, t: LeverageTier, prev: LeverageTier | None) -> None:
    lo, hi = t.min_notional, t.max_notional
    if not (math.isfinite(lo) and lo >= 0) or math.isnan(hi) or not hi > lo:
        raise TierProblem(f"tier {n}: notional range {_num(lo)} .. {_num(hi)} is not increasing from >= 0")
    if not (math.isfinite(t.mmr) and 0 < t.mmr < 1):
        raise TierProblem(f"tier {n}: maintenance margin rate {_num(t.mmr)} is not a fraction in (0, 1)")
    if not (math.isfinite(t.max_leverage) and t.max_leverage >= 1):
        raise TierProblem(f"tier {n}: max leverage {_num(t.max_leverage)} is not a number from 1")
    if t.max_leverage * t.mmr > 1 + 1e-9:
        raise TierProblem(
            f"tier {n}: max leverage {_num(t.max_leverage)}x with maintenance rate {_num(t.mmr)} "
            "opens a position already below maintenance (leverage x rate must be at most 1)"
        )
    if prev is not None:
        if lo <= prev.min_notional or lo < prev.max_notional * (1 - 1e-9):
            raise TierProblem(
                f"tier {n}: starts at {_num(lo)}, inside or below tier {n - 1} "
                f"({_num(prev.min_notional)} .. {_num(prev.max_notional)}); brackets must ascend"
            )
        if t.mmr < prev.mmr:
            raise TierProblem(
                f"tier {n}: maintenance rate {_num(t.mmr)} is below tier {n - 1}'s {_num(prev.mmr)}"
            )


def cum_problem(tiers: Sequence[LeverageTier]) -> str | None:
    """Where the ladder's ``cum`` contradicts its brackets (see the module docstring); None if nowhere.
    Expects brackets that passed the other checks."""
    prev: LeverageTier | None = None
    for n, t in enumerate(tiers, 1):
        cum = t.maint_amount
        slack = _CUM_SLACK_ABS + _CUM_SLACK_REL * t.min_notional * t.mmr
        if not math.isfinite(cum):
            return f"tier {n}: maintenance amount (cum) {_num(cum)} is not a finite number"
        if cum < -slack:
            return f"tier {n}: maintenance amount (cum) {_num(cum)} is negative"
        if prev is None:
            if cum > slack:
                return f"tier 1: maintenance amount (cum) {_num(cum)} is not 0"
        elif cum - prev.maint_amount > t.min_notional * (t.mmr - prev.mmr) + slack:
            return (
                f"tier {n}: maintenance amount (cum) {_num(cum)} makes the maintenance margin fall "
                f"where the tier starts ({_num(t.min_notional)})"
            )
        prev = t
    return None


def check_tiers(tiers: Sequence[LeverageTier]) -> TierCheck:
    """The ladder checked; raises TierProblem when it cannot be used (nothing sensible to recompute)."""
    if not tiers:
        raise TierProblem("no tiers")
    prev: LeverageTier | None = None
    for n, t in enumerate(tiers, 1):
        _check_bracket(n, t, prev)
        prev = t
    problem = cum_problem(tiers)
    if problem is None:
        return TierCheck(tuple(tiers))
    cums = continuous_maint_amounts((t.min_notional, t.mmr) for t in tiers)
    fixed = tuple(replace(t, maint_amount=cum) for t, cum in zip(tiers, cums, strict=True))
    return TierCheck(fixed, f"{problem}: recomputed from the brackets ({', '.join(_num(c) for c in cums)})")


@dataclass(frozen=True, slots=True)
class MarketTiers:
    """What a market carries after the check: its tiers, whether they are the conservative default, and
    a note for the trader when the source's tiers were recomputed or replaced."""

    tiers: tuple[LeverageTier, ...]
    approximate: bool
    note: str | None


def market_tiers(tiers: Sequence[LeverageTier], approximate: bool, max_leverage: float | None) -> MarketTiers:
    """A market's tiers as it may use them: checked, ``cum`` recomputed where contradicted, and the
    conservative default ladder (flagged approximate) when they cannot be used."""
    if not tiers or approximate:
        return MarketTiers(tuple(tiers), approximate, None)
    try:
        checked = check_tiers(tiers)
    except TierProblem as exc:
        cap = max_leverage if max_leverage is not None and math.isfinite(max_leverage) else None
        note = f"the source's brackets are unusable ({exc}): conservative defaults used"
        return MarketTiers(tuple(default_tiers(cap)), True, note)
    return MarketTiers(checked.tiers, False, checked.warning)
