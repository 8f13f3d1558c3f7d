"""The directional layer: trend signals turned into expected returns, optimised, scaled by the regime.

1. Universe: the ``universe_size`` perps with the largest 24h volume whose closes cover the signals'
   windows and the lookback, and whose funding over the lookback is known.
2. Per asset: the combined signal s in [-1, 1] (``signals``); its yearly volatility sigma from the
   covariance (Ledoit-Wolf by default) of the last ``lookback_days`` of bar returns; the drift forecast
   s x ``signal_ic`` x sigma (a forecast with an information coefficient of 0.1 expects a tenth of a
   standard deviation in the signal's direction); expected return = drift - mean funding APR (a long
   pays positive funding), both shrunk towards zero by ``shrinkage`` (``estimators.perp_expected_returns``).
3. The optimiser with the layer's objective: |w_i| <= ``max_weight`` x ``leverage_cap``, gross
   sum |w| <= ``leverage_cap``, volatility <= ``vol_target`` (also efficient_risk's target); weights are
   exposures relative to the layer's capital.
4. The regime filter's scale (``regime``) multiplies every weight.
5. Each perp is held at leverage min(``leverage_cap``, the market's maximum), at least 1x: the margins
   add up to at most gross / leverage <= the layer's capital.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perptui.domain.errors import UsageError
from perptui.domain.estimators import bars_per_year, covariance, perp_expected_returns
from perptui.domain.optimize import (
    FrontierPoint,
    OptimizeResult,
    PortfolioProblem,
    WarmStart,
    efficient_frontier,
    optimize,
)
from perptui.domain.types import Side

from .config import PlanConfig, PlanInputs
from .legs import PlanLeg, listed
from .neutral import mean_funding_apr
from .regime import RegimeState, basket_returns, regime
from .rounding import sized
from .signals import min_closes, signals


@dataclass(frozen=True, slots=True)
class DirectionalLayer:
    legs: tuple[PlanLeg, ...]
    assets: tuple[str, ...]
    mu: np.ndarray  # yearly, per unit of signed weight
    cov: np.ndarray | None
    weights: np.ndarray  # relative to the layer's capital, after the regime scale, before rounding
    regime: RegimeState
    frontier: tuple[FrontierPoint, ...]
    chosen: FrontierPoint | None
    optimizer: OptimizeResult | None
    notes: tuple[str, ...]


def lookback_bars(config: PlanConfig) -> int:
    return round(config.lookback_days * bars_per_year(config.timeframe) / 365)


def universe(inputs: PlanInputs, config: PlanConfig) -> tuple[list[str], list[str]]:
    """The most liquid perps with enough closes and funding, and notes on those passed over."""
    need = max(
        min_closes(config.ma_fast, config.ma_slow, config.donchian_bars, config.momentum_bars),
        lookback_bars(config) + 1,
    )
    ranked = sorted(
        (s for s in inputs.markets if inputs.volume_usd.get(s) is not None),
        key=lambda s: (-inputs.volume_usd[s], s),
    )
    chosen: list[str] = []
    short: list[str] = []
    no_funding: list[str] = []
    for symbol in ranked:
        if len(chosen) == config.universe_size:
            break
        if len(inputs.closes.get(symbol, ())) < need:
            short.append(symbol)
        elif funding_apr(inputs, config, symbol) is None:
            no_funding.append(symbol)
        else:
            chosen.append(symbol)
    notes = []
    if short:
        notes.append(
            f"directional: {listed(short)} passed over: fewer than {need} closed {config.timeframe} bars"
        )
    if no_funding:
        notes.append(
            f"directional: {listed(no_funding)} passed over: "
            f"no funding history over {config.lookback_days} days"
        )
    return chosen, notes


def funding_apr(inputs: PlanInputs, config: PlanConfig, symbol: str) -> float | None:
    return mean_funding_apr(
        inputs.funding.get(symbol, []), inputs.now, config.lookback_days, inputs.intervals_h.get(symbol)
    )


def aligned_returns(closes: dict[str, list[tuple[int, float]]], symbols: list[str]) -> np.ndarray:
    """Bar returns of ``symbols`` on the bar times they all share (rows oldest first)."""
    maps = [dict(closes[s]) for s in symbols]
    times = sorted(set.intersection(*(set(m) for m in maps)))
    prices = np.array([[m[t] for m in maps] for t in times], dtype=float).reshape(len(times), len(symbols))
    return prices[1:] / prices[:-1] - 1.0


def market_regime(inputs: PlanInputs, config: PlanConfig, symbols: list[str]) -> RegimeState:
    daily = inputs.daily_closes or (inputs.closes if config.timeframe == "1d" else {})
    basket = {s: daily[s] for s in symbols if s in daily}
    return regime(
        basket_returns(basket),
        k=config.regime_k,
        zero_at=config.regime_zero_at,
        window=config.regime_window_days,
        history=config.regime_history_days,
    )


def problem(config: PlanConfig, mu: np.ndarray, cov: np.ndarray, assets: tuple[str, ...]) -> PortfolioProblem:
    cap = config.max_weight * config.leverage_cap
    return PortfolioProblem(
        mu=mu,
        cov=cov,
        objective=config.objective,
        risk_aversion=config.risk_aversion,
        target_volatility=config.vol_target if config.objective == "efficient_risk" else None,
        target_return=config.target_return if config.objective == "efficient_return" else None,
        bounds=(-cap, cap),
        gross_max=config.leverage_cap,
        vol_max=config.vol_target,
        assets=assets,
    )


def _empty(state: RegimeState, notes: list[str], **known: object) -> DirectionalLayer:
    fields = {"assets": (), "mu": np.zeros(0), "cov": None, "weights": np.zeros(0), "frontier": (),
              "chosen": None, "optimizer": None} | known  # fmt: skip
    return DirectionalLayer(legs=(), regime=state, notes=tuple(notes), **fields)  # type: ignore[arg-type]  # the layer's remaining fields by name


def directional_layer(
    inputs: PlanInputs, config: PlanConfig, capital: float, total: float, warm: WarmStart | None = None
) -> DirectionalLayer:
    """The directional layer on ``capital`` (the layer's share); leg weights relative to ``total``."""
    symbols, notes = universe(inputs, config) if capital > 0 else ([], [])
    state = market_regime(inputs, config, symbols)
    if capital <= 0:
        return _empty(state, [])
    if not symbols:
        why = "enough history" if inputs.volume_usd else "a known 24h volume to rank the universe by"
        notes.append(f"directional: no perp has {why}: the layer is empty")
        return _empty(state, notes)
    rets = aligned_returns(inputs.closes, symbols)
    rows = rets[-lookback_bars(config) :]
    if len(rows) < 3:
        notes.append(f"directional: {len(rows)} common bars over the lookback: too few for a covariance")
        return _empty(state, notes)
    cov = covariance(rows, config.timeframe, config.covariance)
    vol = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    sig = np.array(
        [
            signals(  # type: ignore[union-attr]  # symbols hold min_closes closes: never None
                [c for _, c in inputs.closes[s]],
                config.ma_fast, config.ma_slow, config.donchian_bars, config.momentum_bars,
            ).combined
            for s in symbols
        ]
    )  # fmt: skip
    funding = np.array([funding_apr(inputs, config, s) for s in symbols], dtype=float)
    mu = perp_expected_returns(funding, sig * config.signal_ic * vol, shrinkage=config.shrinkage).mu
    assets = tuple(symbols)
    pr = problem(config, mu, cov, assets)
    try:
        result = optimize(pr, warm)
    except UsageError as exc:
        notes.append(f"directional: {exc}: the layer is empty")
        return _empty(state, notes, assets=assets, mu=mu, cov=cov)
    if result.status == "cash" and result.message:
        notes.append(f"directional: {result.message}")
    try:
        frontier = tuple(efficient_frontier(pr, config.frontier_points)) if config.frontier_points else ()
    except UsageError as exc:
        notes.append(f"directional: no efficient frontier ({exc})")
        frontier = ()
    if state.scale < 1.0 or state.state == "unknown":
        notes.append(f"regime: {state.reason}")
    w = result.weights * state.scale
    v = float(np.sqrt(max(float(w @ cov @ w), 0.0)))
    r = float(mu @ w)
    chosen = FrontierPoint(r, v, r / v if v > 0 else None, w)
    legs = _legs(inputs, config, symbols, w, mu, sig, capital, total, notes)
    return DirectionalLayer(legs, assets, mu, cov, w, state, frontier, chosen, result, tuple(notes))


def _legs(
    inputs: PlanInputs,
    config: PlanConfig,
    symbols: list[str],
    weights: np.ndarray,
    mu: np.ndarray,
    sig: np.ndarray,
    capital: float,
    total: float,
    notes: list[str],
) -> tuple[PlanLeg, ...]:
    legs = []
    for i, symbol in enumerate(symbols):
        w = float(weights[i])
        if abs(w) < 1e-9:
            continue
        market, mark = inputs.markets[symbol], inputs.marks.get(symbol)
        if mark is None:
            notes.append(f"directional: no mark for {symbol}: left out")
            continue
        qty, why = sized(market, abs(w) * capital, mark)
        if why is not None:
            notes.append(f"directional: {symbol} dropped: {why}")
            continue
        side: Side = "long" if w > 0 else "short"
        sgn = 1.0 if w > 0 else -1.0
        notional = qty * mark
        lev = max(1.0, min(config.leverage_cap, market.max_leverage or config.leverage_cap))
        legs.append(
            PlanLeg(symbol, "perp", side, qty, notional, sgn * notional / total, notional / lev,
                    sgn * float(mu[i]), None, "directional", float(sig[i]))
        )  # fmt: skip
    return tuple(legs)
