"""Every setting of a backtest run and its three strategies, with the CLI's ``--param KEY=VALUE`` parser.
Pure.

Defaults are the allocation plan's (``PlanConfig``) wherever the plan has the same setting, so a
backtest with no ``--param`` runs the plan the allocation pane would make. Shares are fractions
(0.05 = 5%) except ``neutral_pct``, a percent like the plan's. Two settings differ from the plan's on
purpose: ``slippage`` is per fill, as the engine charges it (the plan's 0.001 is the four fills of a
carry round trip together; the carry ranking here charges 4 x slippage), and ``lookback_days`` takes
any positive number of days, not only 7, 30 or 90.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from perptui.domain.errors import UsageError
from perptui.domain.optimize import OBJECTIVES
from perptui.domain.plan.config import PlanConfig
from perptui.domain.timeframes import timeframe_ms

_PLAN = PlanConfig(capital=1.0)
NEVER = "never"
WEIGHTINGS: tuple[str, ...] = ("equal", "optimizer")
COVARIANCES: tuple[str, ...] = ("sample", "ledoit_wolf")
SIZINGS: tuple[str, ...] = ("optimizer", "signal")


@dataclass(frozen=True, slots=True)
class BacktestParams:
    """A run's settings. Invalid values raise a one-line UsageError naming the setting."""

    # --- the run ---
    rebalance: str | int = "7d"
    """``never`` (hold the first entry), a whole number of bars, or a duration (``1d``, ``7d``, ``30d``)."""
    drift: float | None = None
    """Also rebalance when a position's weight strays from its target by more than this; None: never."""
    perp_taker: float = 0.0005
    spot_taker: float = _PLAN.spot_taker
    slippage: float = 0.0005
    """Per fill, a fraction of the price (the engine's meaning)."""
    # --- the carry base ---
    top_n: int = _PLAN.neutral_count
    min_carry_apr: float = _PLAN.min_carry_apr
    lookback_days: float = float(_PLAN.lookback_days)
    """Trailing window of the mean funding APR (carry ranking, and the trend's funding forecast)."""
    hold_days: float = _PLAN.hold_days
    neutral_leverage: float = _PLAN.neutral_leverage
    weighting: str = "optimizer"
    """``equal``, or ``optimizer``: max utility on the pairs' net APR and their funding covariance."""
    neutral_max_weight: float = _PLAN.neutral_max_weight
    # --- the trend layer ---
    ma_fast: int = _PLAN.ma_fast
    ma_slow: int = _PLAN.ma_slow
    donchian_bars: int = _PLAN.donchian_bars
    momentum_bars: int = _PLAN.momentum_bars
    signal_ic: float = _PLAN.signal_ic
    shrinkage: float = _PLAN.shrinkage
    leverage_cap: float = _PLAN.leverage_cap
    max_weight: float = _PLAN.max_weight
    vol_target: float = _PLAN.vol_target
    objective: str = _PLAN.objective
    risk_aversion: float = _PLAN.risk_aversion
    target_return: float = _PLAN.target_return
    covariance: str = _PLAN.covariance
    cov_lookback_days: float = float(_PLAN.lookback_days)
    sizing: str = "optimizer"
    """``optimizer`` (the plan's problem and regime filter), or ``signal``: each weight is the combined
    signal x ``max_weight`` x ``leverage_cap``, scaled down so the gross is at most ``leverage_cap`` (a
    rule any engine can replay, e.g. the backtrader cross-check)."""
    # --- the hybrid ---
    neutral_pct: float = _PLAN.neutral_pct
    regime_k: float = _PLAN.regime_k
    regime_zero_at: float = _PLAN.regime_zero_at
    regime_window_days: int = _PLAN.regime_window_days
    regime_history_days: int = _PLAN.regime_history_days

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _SPECS[f.name].check(f.name, getattr(self, f.name))
        _cross_checks(self)

    def with_(self, **changes: object) -> BacktestParams:
        unknown = [k for k in changes if k not in _SPECS]
        if unknown:
            raise _unknown(unknown[0])
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # names checked above, values in __post_init__

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


# --- values -----------------------------------------------------------------------------------------


def _bad(name: str, value: object, want: str) -> UsageError:
    shown = value if isinstance(value, str) else repr(value)
    return UsageError(f"parameter {name}={shown} is not accepted: use {want}")


@dataclass(frozen=True, slots=True)
class _Spec:
    """How a setting is read from text and what it accepts."""

    parse: Callable[[str], object]
    valid: Callable[[object], bool]
    want: str

    def check(self, name: str, value: object) -> None:
        if not self.valid(value):
            raise _bad(name, value, self.want)


def _is_number(v: object) -> TypeGuard[float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _number(lo: float | None = None, hi: float | None = None, *, above: bool = False) -> _Spec:
    def valid(v: object) -> bool:
        if not _is_number(v):
            return False
        x = float(v)
        return (lo is None or (x > lo if above else x >= lo)) and (hi is None or x <= hi)

    parts = ["a number"]
    if lo is not None:
        parts.append(f"{'above' if above else 'at least'} {lo:g}")
    if hi is not None:
        parts.append(f"{'and ' if lo is not None else ''}at most {hi:g}")
    return _Spec(float, valid, " ".join(parts))


def _whole(lo: int, hi: int) -> _Spec:
    def valid(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi

    return _Spec(int, valid, f"a whole number from {lo} to {hi:,}")


def _choice(options: Sequence[str]) -> _Spec:
    return _Spec(lambda t: t.strip().lower(), lambda v: v in options, f"one of {', '.join(options)}")


def _parse_rebalance(text: str) -> object:
    t = text.strip().lower()
    if t in (NEVER, "none"):
        return NEVER
    if t.isascii() and t.isdigit():
        return int(t)
    return t


def _valid_rebalance(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 1 <= v <= _MAX_BARS
    if not isinstance(v, str):
        return False
    if v == NEVER:
        return True
    try:
        return v[-1] in "hdw" and timeframe_ms(v) > 0
    except UsageError:
        return False


def _parse_drift(text: str) -> object:
    t = text.strip().lower()
    return None if t in ("none", "off", NEVER) else float(t)


#: Upper bounds, the same as the settings' (``[plan]``) where they have one; elsewhere far above any real
#: use (ten years of days, a million bars), so that a typo such as 1e308 is refused, not run.
_MAX_DAYS = 3650.0
_MAX_BARS = 1_000_000

_SPECS: dict[str, _Spec] = {
    "rebalance": _Spec(
        _parse_rebalance,
        _valid_rebalance,
        "never, a whole number of bars (>= 1) or a duration like 1d, 7d, 30d",
    ),
    "drift": _Spec(
        _parse_drift,
        lambda v: v is None or (_is_number(v) and v > 0),
        "none or a fraction above 0 (0.05 = 5%)",
    ),
    "perp_taker": _number(0, 1),
    "spot_taker": _number(0, 1),
    "slippage": _number(0, 1),
    "top_n": _whole(0, 1000),
    "min_carry_apr": _number(-10_000, 10_000),
    "lookback_days": _number(0, _MAX_DAYS, above=True),
    "hold_days": _number(0, _MAX_DAYS, above=True),
    "neutral_leverage": _number(1, 20),
    "weighting": _choice(WEIGHTINGS),
    "neutral_max_weight": _number(0, 1, above=True),
    "ma_fast": _whole(1, _MAX_BARS),
    "ma_slow": _whole(2, _MAX_BARS),
    "donchian_bars": _whole(2, _MAX_BARS),
    "momentum_bars": _whole(1, _MAX_BARS),
    "signal_ic": _number(0, 100),
    "shrinkage": _number(0, 1),
    "leverage_cap": _number(0, 20, above=True),
    "max_weight": _number(0, 1, above=True),
    "vol_target": _number(0, 5, above=True),
    "objective": _choice(OBJECTIVES),
    "risk_aversion": _number(0, 1000, above=True),
    "target_return": _number(-100, 100),
    "covariance": _choice(COVARIANCES),
    "cov_lookback_days": _number(0, _MAX_DAYS, above=True),
    "sizing": _choice(SIZINGS),
    "neutral_pct": _number(0, 100),
    "regime_k": _number(0, 1e9, above=True),
    "regime_zero_at": _number(0, 1e9, above=True),
    "regime_window_days": _whole(2, 3650),
    "regime_history_days": _whole(2, 3650),
}
KEYS: tuple[str, ...] = tuple(_SPECS)


def _cross_checks(p: BacktestParams) -> None:
    if p.ma_slow <= p.ma_fast:
        raise UsageError(f"parameter ma_slow={p.ma_slow} must be above ma_fast={p.ma_fast}")
    if p.regime_zero_at <= p.regime_k:
        raise UsageError(
            f"parameter regime_zero_at={p.regime_zero_at:g} must be above regime_k={p.regime_k:g}"
        )
    if p.regime_history_days < p.regime_window_days:
        raise UsageError(
            f"parameter regime_history_days={p.regime_history_days} must be at least "
            f"regime_window_days={p.regime_window_days}"
        )


def _unknown(key: str) -> UsageError:
    close = difflib.get_close_matches(key, KEYS, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(KEYS)}"
    return UsageError(f"unknown parameter {key!r}: {hint}")


def parse_pair(pair: str) -> tuple[str, object]:
    """``"top_n=3"`` -> ``("top_n", 3)``, the value checked on its own (the checks between settings, such
    as ma_slow above ma_fast, are made when the parameters are built)."""
    key, sep, text = pair.partition("=")
    key = key.strip().lower()
    if not sep or not key:
        raise UsageError(f"bad parameter {pair!r}: use KEY=VALUE (e.g. top_n=3)")
    spec = _SPECS.get(key)
    if spec is None:
        raise _unknown(key)
    if not text.isascii() or len(text) > 40:
        raise _bad(key, text.strip()[:40], spec.want)
    try:
        value = spec.parse(text)
    except ValueError:
        raise _bad(key, text.strip(), spec.want) from None
    if not spec.valid(value):
        raise _bad(key, text.strip(), spec.want)
    return key, value


def parse_params(pairs: Sequence[str], base: BacktestParams | None = None) -> BacktestParams:
    """``["top_n=3", "rebalance=7d"]`` applied to ``base`` (default: the defaults). Later pairs win."""
    changes = dict(parse_pair(pair) for pair in pairs)
    return (base or BacktestParams()).with_(**changes)
