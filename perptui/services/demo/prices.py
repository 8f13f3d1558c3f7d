"""Hourly prices: a common market factor plus each coin's own moves.

Returns follow ``r = beta * factor + own``. Both parts have stochastic log-volatility (AR(1): calm and
wild weeks cluster), fat-tailed shocks and jumps; the factor's volatility rises after falls (the leverage
effect) and it carries slow bull and bear drifts. Each coin's log price reverts slowly (half a year) to
its starting level so price levels stay recognisable over years of history. Everything is built on a
fixed hourly grid in blocks of ``BLOCK_HOURS``; each block starts from the state the previous one left.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from perptui.services.demo.rng import ar1, block_rng, fat_tailed
from perptui.services.demo.universe import CoinSpec, decimals_of

BLOCK_HOURS = 2048
SLOW_STEP = 8  # slow processes (drift, sentiment, open interest) move every 8 hours
HOURS_PER_YEAR = 8760

#: Hourly volatility of BTCDEMO (about 55% a year); every other coin is a multiple of it.
SIGMA_BTC = 0.55 / math.sqrt(HOURS_PER_YEAR)
_BTC_OWN = 0.3  # BTCDEMO's own shocks, as a fraction of the factor's
SIGMA_FACTOR = SIGMA_BTC / math.sqrt(1.0 + _BTC_OWN**2)

_LOGVOL_SD = 0.5  # stationary sd of log-volatility
_FACTOR_VOL_PHI = 0.995  # ~6 day half-life of volatility regimes
_OWN_VOL_PHI = 0.99**SLOW_STEP
_LEVERAGE_RHO = 0.35  # falls raise the factor's volatility
_FACTOR_JUMP_PROB = 1 / 1200
_DRIFT_PHI = 0.9995**SLOW_STEP  # bull and bear legs lasting weeks to months
_DRIFT_SD = 0.02 * SIGMA_FACTOR
_SENTIMENT_PHI = 0.998**SLOW_STEP  # market mood behind funding regimes, ~2 week half-life
_LEVEL_PHI = 1.0 - 1.0 / (0.5 * HOURS_PER_YEAR)

_FACTOR_KEY = 0x5EED_FAC7


def slow_ar1(rng: np.random.Generator, phi: float, x0: float, n: int) -> np.ndarray:
    """A unit-variance AR(1) sampled every SLOW_STEP hours and held in between (cheap and smooth enough)."""
    eps = rng.standard_normal(n // SLOW_STEP)
    coarse = ar1(math.sqrt(1 - phi * phi) * eps, phi, x0)
    return np.repeat(coarse, SLOW_STEP)


@dataclass(slots=True)
class FactorBlock:
    ret: np.ndarray  # factor log return per hour, including jumps and drift
    vol_z: np.ndarray  # standardised log-volatility of the factor (mean 0, sd 1)
    vol: np.ndarray  # the factor's hourly volatility
    sentiment: np.ndarray  # slow market mood, unit variance (funding regimes)


@dataclass(slots=True)
class FactorState:
    logvol: float = 0.0
    last_z: float = 0.0
    drift: float = 0.0
    sentiment: float = 0.0


class FactorSim:
    """The market-wide factor, generated block by block and cached."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.blocks: list[FactorBlock] = []
        self._state = FactorState()

    def block(self, k: int) -> FactorBlock:
        while len(self.blocks) <= k:
            blk, self._state = _factor_block(self.seed, len(self.blocks), self._state)
            self.blocks.append(blk)
        return self.blocks[k]


def _factor_block(seed: int, k: int, st: FactorState) -> tuple[FactorBlock, FactorState]:
    n = BLOCK_HOURS
    rng = block_rng(seed, _FACTOR_KEY, k)
    z_raw = rng.standard_normal(n)
    eps = rng.standard_normal(n)
    u = rng.random(n)
    drift = _DRIFT_SD * slow_ar1(rng, _DRIFT_PHI, st.drift / _DRIFT_SD, n)
    sentiment = slow_ar1(rng, _SENTIMENT_PHI, st.sentiment, n)
    jump = u < _FACTOR_JUMP_PROB
    jump_sizes = rng.standard_normal(int(jump.sum()))  # drawn last: their count varies

    z = fat_tailed(z_raw, u, _FACTOR_JUMP_PROB)
    z_prev = np.concatenate(([st.last_z], z[:-1]))
    innov = -_LEVERAGE_RHO * np.clip(z_prev, -4, 4) + math.sqrt(1 - _LEVERAGE_RHO**2) * eps
    logvol = ar1(_LOGVOL_SD * math.sqrt(1 - _FACTOR_VOL_PHI**2) * innov, _FACTOR_VOL_PHI, st.logvol)
    vol = SIGMA_FACTOR * np.exp(logvol - _LOGVOL_SD**2)
    ret = vol * z + drift
    ret[jump] += (-2.0 + 8.0 * jump_sizes) * vol[jump]  # crashes more often than squeezes
    new = FactorState(float(logvol[-1]), float(z[-1]), float(drift[-1]), float(sentiment[-1]))
    return FactorBlock(ret, logvol / _LOGVOL_SD, vol, sentiment), new


@dataclass(slots=True)
class PriceState:
    logvol: float = 0.0
    level: float = 0.0  # log price minus log starting price
    close: float | None = None  # last rounded close


@dataclass(slots=True)
class PriceBlock:
    """One block of hourly perp (last price) bars and what the funding model needs from them."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # base units
    ret_z: np.ndarray  # log return / the coin's normal hourly volatility (for momentum)


@functools.lru_cache(maxsize=4)
def _season(k: int) -> np.ndarray:
    """Volume seasonality of block k: a daily cycle peaking at 15:00 UTC and quieter weekends."""
    hours = k * BLOCK_HOURS + np.arange(BLOCK_HOURS)
    daily = 1.0 + 0.3 * np.cos((2 * np.pi / 24) * ((hours % 24) - 15))
    return daily * np.where((hours // 24 + 5) % 7 >= 5, 0.7, 1.0)  # 2022-01-01 was a Saturday (Monday = 0)


def coin_sigma(spec: CoinSpec) -> float:
    """The coin's long-run hourly volatility."""
    return spec.vol_mult * SIGMA_BTC


def own_sigma(spec: CoinSpec) -> float:
    beta = spec.params.beta
    return math.sqrt(max(coin_sigma(spec) ** 2 - (beta * SIGMA_FACTOR) ** 2, (_BTC_OWN * SIGMA_FACTOR) ** 2))


def price_block(
    spec: CoinSpec, rng: np.random.Generator, k: int, factor: FactorBlock, st: PriceState
) -> tuple[PriceBlock, PriceState]:
    """One block of a coin's hourly bars; ``rng`` is the coin's generator for block ``k``."""
    n = BLOCK_HOURS
    p = spec.params
    dec = decimals_of(spec.tick)
    z_raw = rng.standard_normal(n)
    own = slow_ar1(rng, _OWN_VOL_PHI, st.logvol, n)
    u = rng.random(n)
    log_u_hl = np.log1p(-rng.random(2 * n))
    u_vol = rng.random(n)
    jump = u < p.jump_prob
    jump_sizes = rng.standard_normal(int(jump.sum()))  # drawn last: their count varies

    mix = 0.6 * factor.vol_z + 0.8 * own  # a coin's own volatility shares the market's regime
    own_vol = own_sigma(spec) * np.exp(_LOGVOL_SD * mix - _LOGVOL_SD**2)
    ret = p.beta * factor.ret + own_vol * fat_tailed(z_raw, u, p.jump_prob)
    ret[jump] += 5.0 * jump_sizes * own_vol[jump]
    level = ar1(ret, _LEVEL_PHI, st.level)
    log_close = math.log(spec.price0) + level

    close = np.round(np.exp(log_close), dec)
    prev = spec.price0 if st.close is None else st.close
    opens = np.concatenate(([prev], close[:-1]))

    # High and low: the exact law of the maximum (minimum) of a Brownian bridge from open to close.
    var = (p.beta * factor.vol) ** 2 + own_vol**2
    log_open = np.concatenate(([math.log(prev)], log_close[:-1]))
    b = log_close - log_open
    b2 = b * b
    spread_hi = np.sqrt(b2 - 2.0 * var * log_u_hl[:n])
    spread_lo = np.sqrt(b2 - 2.0 * var * log_u_hl[n:])
    high = np.maximum(np.round(np.exp(log_open + 0.5 * (b + spread_hi)), dec), np.maximum(opens, close))
    low = np.minimum(np.round(np.exp(log_open + 0.5 * (b - spread_lo)), dec), np.minimum(opens, close))

    # Volume: busier when volatile and on big moves, with the time of day and week.
    hours = k * n + np.arange(n)
    season = (1.0 + 0.3 * np.cos((2 * np.pi / 24) * ((hours % 24) - 15))) * np.where(
        (hours // 24 + 5) % 7 >= 5,
        0.7,
        1.0,  # the origin, 2022-01-01, was a Saturday (Monday = 0)
    )
    sd = coin_sigma(spec)
    activity = np.sqrt(var) * (1.0 / sd) + 0.35 * np.abs(b) * (1.0 / sd)
    usd = (spec.adv_usd / 24 / 1.3) * activity * season * (0.6 - 0.4 * np.log1p(-u_vol))
    volume = np.round(usd / close, decimals_of(spec.step))

    blk = PriceBlock(opens, high, low, close, volume, ret * (1.0 / sd))
    return blk, PriceState(float(own[-1]), float(level[-1]), float(close[-1]))
