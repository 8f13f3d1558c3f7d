"""One coin's generated history: hourly perp bars, premium, open interest; spot bars and funding prints
derived from them.

Generated lazily in whole blocks of ``BLOCK_HOURS`` from the origin and kept in memory (about 1.3 MB per
coin-year). A block depends only on the seed, the coin, its index and the state the previous block ended
in, so data at time t never depends on how far the series has been generated (prefix stability); the
clock only decides how much of it is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perptui.services.demo.funding import PremiumState, premium_block, prints_from_premium
from perptui.services.demo.intrahour import HourPath, hour_path
from perptui.services.demo.prices import (
    BLOCK_HOURS,
    FactorSim,
    PriceState,
    price_block,
    slow_ar1,
)
from perptui.services.demo.rng import block_rng, market_key
from perptui.services.demo.universe import ORIGIN_MS, CoinSpec, decimals_of

_MAX_BASIS = 0.03
_SPOT_VOLUME_SHARE = 0.35  # spot trades about a third of the perp's volume
_OI_PHI = 0.999**8
_OI_TO_DAILY_VOLUME = 0.5


@dataclass(frozen=True, slots=True)
class Bars:
    """Hourly bars for a range of hours (arrays of equal length)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


# Per hour: close and volume (float64), high and low as whole ticks above / below the body (uint32),
# premium, open interest and spot volume share (float32): 32 bytes an hour, ~280 kB per coin-year.
_EMPTY = Bars(*(np.empty(0) for _ in range(5)))

_STORED = ("close", "hi_ticks", "lo_ticks", "volume", "premium", "oi", "spot_share")


def _ticks(excess: np.ndarray, tick: float) -> np.ndarray:
    """A wick length in whole ticks; rebuilt with np.round(body + ticks * tick, decimals), it gives back
    the very same float (both are the double nearest the same decimal)."""
    return np.rint(excess / tick).astype(np.uint32)


class CoinSeries:
    def __init__(self, spec: CoinSpec, seed: int, factor: FactorSim) -> None:
        self.spec = spec
        self.seed = seed
        self.key = market_key(spec.base)
        self.decimals = decimals_of(spec.tick)
        self.vol_decimals = decimals_of(spec.step)
        self._factor = factor
        self._arrays: dict[str, np.ndarray] = {}
        self._n_blocks = 0
        self._price_state = PriceState()
        self._premium_state = PremiumState()
        self._oi_state = 0.0
        self._prints: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._paths: dict[int, HourPath] = {}

    @property
    def hours(self) -> int:
        return self._n_blocks * BLOCK_HOURS

    def ensure(self, n_hours: int) -> None:
        """Generate whole blocks until at least ``n_hours`` hours exist."""
        new: list[dict[str, np.ndarray]] = []
        while (self._n_blocks + len(new)) * BLOCK_HOURS < n_hours:
            new.append(self._block(self._n_blocks + len(new)))
        if not new:
            return
        for f in _STORED:
            parts = ([self._arrays[f]] if f in self._arrays else []) + [b[f] for b in new]
            self._arrays[f] = np.concatenate(parts)
        self._n_blocks += len(new)
        self._prints = None

    def _block(self, k: int) -> dict[str, np.ndarray]:
        spec = self.spec
        factor = self._factor.block(k)
        # One generator per (seed, coin, block); the draws inside a block always come in the same order.
        rng = block_rng(self.seed, self.key, k)
        px, self._price_state = price_block(spec, rng, k, factor, self._price_state)
        premium, self._premium_state = premium_block(
            spec, rng, px.ret_z, factor.sentiment, self._premium_state
        )
        oi = slow_ar1(rng, _OI_PHI, self._oi_state, BLOCK_HOURS)
        self._oi_state = float(oi[-1])
        spot_share = _SPOT_VOLUME_SHARE * (0.7 + 0.6 * rng.random(BLOCK_HOURS))
        return {
            "close": px.close,
            "hi_ticks": _ticks(px.high - np.maximum(px.open, px.close), spec.tick),
            "lo_ticks": _ticks(np.minimum(px.open, px.close) - px.low, spec.tick),
            "volume": px.volume,
            "premium": premium.astype(np.float32),
            "oi": (spec.adv_usd * _OI_TO_DAILY_VOLUME * np.exp(0.3 * oi - 0.045)).astype(np.float32),
            "spot_share": spot_share.astype(np.float32),
        }

    @property
    def premium(self) -> np.ndarray:
        return self._arrays["premium"]

    @property
    def oi_usd(self) -> np.ndarray:
        return self._arrays["oi"]

    def perp_bars(self, lo: int, hi: int) -> Bars:
        """Complete hourly last-price bars of hours [lo, hi)."""
        if hi <= lo:
            return _EMPTY
        all_close = self._arrays["close"]
        close = all_close[lo:hi]
        if lo == 0:
            opens = np.concatenate(([self.spec.price0], all_close[: max(hi - 1, 0)]))[: len(close)]
        else:
            opens = all_close[lo - 1 : hi - 1]
        tick, dec = self.spec.tick, self.decimals
        high = np.round(np.maximum(opens, close) + self._arrays["hi_ticks"][lo:hi] * tick, dec)
        low = np.round(np.minimum(opens, close) - self._arrays["lo_ticks"][lo:hi] * tick, dec)
        return Bars(opens, high, low, close, self._arrays["volume"][lo:hi])

    def basis(self, lo: int, hi: int) -> np.ndarray:
        """1 + the perp's premium over spot for hours [lo, hi)."""
        return 1.0 + np.clip(self._arrays["premium"][lo:hi], -_MAX_BASIS, _MAX_BASIS)

    def spot_bars(self, lo: int, hi: int) -> Bars:
        """Spot = perp / (1 + basis); spot bars open at the previous spot close, so they have no gaps."""
        if hi <= lo:
            return _EMPTY
        start = max(lo - 1, 0)
        perp = self.perp_bars(start, hi)
        basis = self.basis(start, hi)
        dec = self.decimals
        close = np.round(perp.close / basis, dec)
        if lo == 0:
            opens = np.concatenate(([round(self.spec.price0 / float(basis[0]), dec)], close[:-1]))
        else:
            opens, close = close[:-1], close[1:]
            perp = Bars(*(a[1:] for a in (perp.open, perp.high, perp.low, perp.close, perp.volume)))
            basis = basis[1:]
        high = np.maximum(np.round(perp.high / basis, dec), opens)
        low = np.minimum(np.round(perp.low / basis, dec), opens)
        share = self._arrays["spot_share"][lo:hi]
        volume = np.round(perp.volume * share, self.vol_decimals)
        return Bars(opens, high, low, close, volume)

    def prints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every funding print of the generated range: times (ms), rates, intervals (h)."""
        if self._prints is None:
            self._prints = prints_from_premium(self.spec, self._arrays["premium"], ORIGIN_MS)
        return self._prints

    def path(self, hour: int) -> HourPath:
        """The intra-hour path of one perp bar (cached)."""
        cached = self._paths.get(hour)
        if cached is not None:
            return cached
        b = self.perp_bars(hour, hour + 1)
        bar = (float(b.open[0]), float(b.high[0]), float(b.low[0]), float(b.close[0]))
        sigma = max(math.log(bar[1] / bar[2]) / 1.6, 1e-6)  # a Brownian hour's range is ~1.6 sigma
        p = hour_path(self.seed, self.key, hour, bar, sigma, self.decimals)
        if len(self._paths) > 4096:
            self._paths.clear()
        self._paths[hour] = p
        return p
