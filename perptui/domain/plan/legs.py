"""The plan's target positions (``PlanLeg``), the orders that reach them (``PlanTrade``) and each
layer's risk shares. Pure."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import numpy as np

from perptui.domain.types import Side

LegKind = Literal["perp", "spot"]
Layer = Literal["neutral", "directional"]


@dataclass(frozen=True, slots=True)
class PlanLeg:
    """One target position. ``qty`` is rounded to the market's step and > 0; ``weight`` is the signed
    notional as a share of the whole capital (+ long, - short); ``margin`` what it ties up (perp:
    notional / leverage, spot: the notional); ``expected_return`` is yearly, per unit of this leg's
    notional in its direction (neutral: the pair's net carry on the perp leg, 0 on the hedged spot leg);
    ``risk_contribution`` its share of the layer's variance (the legs of a layer sum to 1)."""

    symbol: str
    leg: LegKind
    side: Side
    qty: float
    notional: float
    weight: float
    margin: float | None
    expected_return: float | None
    risk_contribution: float | None
    layer: Layer
    signal: float | None = None

    def as_dict(self) -> dict[str, object]:
        return as_dict(self)


@dataclass(frozen=True, slots=True)
class PlanTrade:
    """One market order from the current positions towards the target; ``reduce_only`` when it only
    reduces or closes what is held; ``notional`` at the mark, None when no mark is known."""

    symbol: str
    leg: LegKind
    side: Side
    qty: float
    notional: float | None
    reduce_only: bool

    def as_dict(self) -> dict[str, object]:
        return as_dict(self)


def as_dict(obj: object) -> dict[str, object]:
    """A dataclass's fields by name, in order (the JSON shape of the plan's parts)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]  # obj is one of the plan's dataclasses


def risk_shares(weights: np.ndarray, cov: np.ndarray) -> np.ndarray | None:
    """w_i (Sigma w)_i / w'Sigma w: each position's share of the variance (sums to 1); None at zero
    variance."""
    w = np.asarray(weights, dtype=float)
    marginal = np.asarray(cov, dtype=float) @ w
    total = float(w @ marginal)
    if not total > 0:
        return None
    return w * marginal / total


def listed(symbols: list[str], most: int = 4) -> str:
    """A short list for a note: the first few symbols and how many more."""
    return ", ".join(symbols[:most]) + (f" and {len(symbols) - most} more" if len(symbols) > most else "")
