"""The demo market list: coins, price levels, steps, fees, funding intervals and leverage brackets.

All names say DEMO (``BTCDEMO/USDT:USDT``) so no one mistakes the simulated data for a real market.
Steps, ticks, min notionals and brackets copy the shape of Binance USDⓈ-M at each price level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from perptui.domain.symbols import perp_symbol
from perptui.domain.types import LeverageTier, Market

TierClass = Literal["mega", "large", "mid", "small", "micro"]

EXCHANGE_NAME = "demo"
QUOTE = "USDT"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


#: First hour of the simulated history (2022-01-01T00:00Z). Every series lives on the hourly grid from here.
ORIGIN_MS = _ms("2022-01-01T00:00:00")

# Brackets per class: (max notional, maintenance margin rate, max leverage); min notional is the previous
# bracket's max. Shapes follow Binance USDⓈ-M (BTC: 0.4% at 125x .. 50% at 1x).
_TIER_TEMPLATES: dict[TierClass, tuple[tuple[float, float, float], ...]] = {
    "mega": (
        (50_000, 0.004, 125),
        (600_000, 0.005, 100),
        (3_000_000, 0.0065, 75),
        (12_000_000, 0.01, 50),
        (70_000_000, 0.02, 25),
        (100_000_000, 0.025, 20),
        (230_000_000, 0.05, 10),
        (480_000_000, 0.1, 5),
        (800_000_000, 0.25, 2),
        (1_200_000_000, 0.5, 1),
    ),
    "large": (
        (20_000, 0.005, 100),
        (100_000, 0.0065, 75),
        (500_000, 0.01, 50),
        (2_500_000, 0.02, 25),
        (5_000_000, 0.025, 20),
        (25_000_000, 0.05, 10),
        (50_000_000, 0.1, 5),
        (100_000_000, 0.25, 2),
        (200_000_000, 0.5, 1),
    ),
    "mid": (
        (10_000, 0.0065, 75),
        (50_000, 0.01, 50),
        (250_000, 0.02, 25),
        (1_000_000, 0.025, 20),
        (5_000_000, 0.05, 10),
        (10_000_000, 0.1, 5),
        (20_000_000, 0.25, 2),
        (40_000_000, 0.5, 1),
    ),
    "small": (
        (5_000, 0.01, 50),
        (25_000, 0.02, 25),
        (100_000, 0.025, 20),
        (500_000, 0.05, 10),
        (1_000_000, 0.1, 5),
        (2_000_000, 0.25, 2),
        (4_000_000, 0.5, 1),
    ),
    "micro": (
        (5_000, 0.025, 20),
        (25_000, 0.05, 10),
        (100_000, 0.1, 5),
        (250_000, 0.125, 4),
        (500_000, 0.25, 2),
        (1_000_000, 0.5, 1),
    ),
}


@dataclass(frozen=True, slots=True)
class ClassParams:
    """Behaviour shared by a size class (volatility, funding, liquidity). Premiums are in 8h units."""

    beta: float  # loading on the common market factor
    jump_prob: float  # own price jumps per hour
    funding_cap8: float  # funding cap in 8h units; a k-hour market's per-print cap is cap8 * k / 8
    premium_mu: float  # mean premium index (Binance's sits near -0.04%, inside the clamp band)
    premium_sd: float  # stationary sd of the fast premium noise
    momentum_coef: float  # premium per sd of 2-day momentum
    sentiment: float  # premium per sd of the slow mood
    bull: float  # extra premium in manias (times the square root of the mood's excess over +1.2 sd)
    regime_depth: float  # premium pulled down per sd of mood below -1 sd
    spike_prob: float  # premium spikes per hour
    spike_size: float  # median absolute spike
    max_qty_notional: float  # LOT_SIZE maxQty expressed in USDT at the starting price


def _cp(beta: float, jump: float, cap8: float, bp: tuple[float, ...], spike_prob: float, spike: float,
        max_qty_usd: float) -> ClassParams:  # fmt: skip
    mu, sd, mom, sent, bull, depth = (x * 1e-4 for x in bp)
    return ClassParams(beta, jump, cap8, mu, sd, mom, sent, bull, depth, spike_prob, spike, max_qty_usd)


# fmt: off
CLASS_PARAMS: dict[TierClass, ClassParams] = {
    # premium terms in basis points: mu, noise sd, momentum, mood, mania, bear depth
    "mega": _cp(1.0, 1 / 900, 0.0075, (-4.3, 0.35, 0.35, 0.45, 12.0, 1.5), 1 / 25_000, 0.002, 50e6),
    "large": _cp(1.15, 1 / 700, 0.0075, (-4.25, 0.45, 0.45, 0.5, 14.0, 1.8), 1 / 9_000, 0.004, 20e6),
    "mid": _cp(1.3, 1 / 500, 0.0075, (-4.2, 0.55, 0.55, 0.55, 16.0, 2.0), 1 / 5_000, 0.008, 10e6),
    "small": _cp(1.45, 1 / 350, 0.02, (-4.1, 0.7, 0.7, 0.6, 20.0, 2.5), 1 / 3_000, 0.016, 5e6),
    "micro": _cp(1.6, 1 / 250, 0.02, (-4.0, 0.8, 0.8, 0.7, 25.0, 3.0), 1 / 2_000, 0.025, 2e6),
}
# fmt: on


@dataclass(frozen=True, slots=True)
class CoinSpec:
    """One demo coin: a perp ``<BASE>/USDT:USDT`` and its spot ``<BASE>/USDT``."""

    base: str
    price0: float  # price level the series starts at and slowly reverts to
    cls: TierClass
    vol_mult: float  # total volatility as a multiple of BTCDEMO's
    interval_h: int  # funding interval at the start of the history
    tick: float
    step: float
    adv_usd: float  # typical 24h perp quote volume
    min_notional: float = 5.0
    taker_fee: float = 0.0005
    maker_fee: float = 0.0002
    interval_change: tuple[int, int] | None = None  # (time ms, new interval hours)
    tier_scale: float = 1.0  # scales the class's bracket notionals

    @property
    def symbol(self) -> str:
        return perp_symbol(self.base, QUOTE)

    @property
    def spot_symbol(self) -> str:
        return f"{self.base}/{QUOTE}"

    @property
    def exchange_id(self) -> str:
        return f"{self.base}{QUOTE}"

    @property
    def params(self) -> ClassParams:
        return CLASS_PARAMS[self.cls]

    def interval_at(self, t_ms: int) -> int:
        """Funding interval in hours in force at time t (after an interval change, the new one)."""
        if self.interval_change is not None and t_ms >= self.interval_change[0]:
            return self.interval_change[1]
        return self.interval_h

    def funding_cap(self, interval_h: int) -> float:
        """Per-print cap (and floor, negated) for a print of the given interval."""
        return self.params.funding_cap8 * interval_h / 8


def _c(
    coin: str,
    price: float,
    cls: TierClass,
    vol: float,
    interval: int,
    tick: float,
    step: float,
    adv_m: float,
    min_notional: float = 5.0,
    taker_fee: float = 0.0005,
    maker_fee: float = 0.0002,
    interval_change: tuple[int, int] | None = None,
    tier_scale: float = 1.0,
) -> CoinSpec:
    """A row of the table below; every base gets the DEMO suffix."""
    return CoinSpec(
        coin + "DEMO", price, cls, vol, interval, tick, step, adv_m * 1e6,
        min_notional, taker_fee, maker_fee, interval_change, tier_scale,
    )  # fmt: skip


#: POLDEMO moves from 8h to 4h funding on this date (as POLUSDT did on Binance in September 2024).
POL_INTERVAL_CHANGE_MS = _ms("2024-09-13T00:00:00")

# fmt: off
UNIVERSE: tuple[CoinSpec, ...] = (
    # base, start price, class, vol x BTC, funding h, tick, step, 24h volume (M USDT)
    _c("BTC", 46_200.0, "mega", 1.0, 8, 0.1, 0.001, 12_000, min_notional=20.0, taker_fee=0.0004),
    _c("ETH", 3_680.0, "mega", 1.2, 8, 0.01, 0.001, 6_000, min_notional=20.0, tier_scale=0.8),
    _c("BNB", 512.0, "large", 1.05, 8, 0.01, 0.01, 600, min_notional=10.0),
    _c("SOL", 170.0, "large", 1.7, 8, 0.01, 0.01, 2_500, min_notional=10.0),
    _c("XRP", 0.8300, "large", 1.45, 8, 0.0001, 0.1, 1_500),
    _c("DOGE", 0.17200, "large", 1.75, 8, 0.00001, 1.0, 1_200),
    _c("ADA", 1.3100, "mid", 1.6, 8, 0.0001, 1.0, 400),
    _c("AVAX", 108.0, "mid", 1.9, 8, 0.001, 0.1, 350),
    _c("LINK", 19.8, "mid", 1.7, 8, 0.001, 0.01, 400),
    _c("DOT", 27.1, "mid", 1.6, 8, 0.001, 0.1, 200),
    _c("LTC", 146.0, "mid", 1.45, 8, 0.01, 0.001, 300),
    _c("TRX", 0.07600, "mid", 1.1, 8, 0.00001, 1.0, 150, maker_fee=0.0),
    _c("ATOM", 33.2, "mid", 1.7, 8, 0.001, 0.01, 150),
    _c("UNI", 17.2, "mid", 1.8, 8, 0.001, 1.0, 150),
    _c("NEAR", 16.1, "mid", 2.0, 8, 0.001, 1.0, 250),
    _c("AAVE", 262.0, "mid", 1.9, 8, 0.01, 0.1, 200),
    _c("FIL", 34.5, "mid", 1.9, 8, 0.001, 0.1, 150),
    _c("OP", 3.60, "mid", 2.1, 8, 0.0001, 0.1, 200),
    _c("ARB", 1.800, "mid", 2.1, 8, 0.0001, 0.1, 250),
    _c("SUI", 1.2000, "mid", 2.2, 8, 0.0001, 0.1, 500),
    _c("APT", 9.20, "mid", 2.1, 8, 0.0001, 0.01, 200),
    _c("POL", 2.5200, "small", 2.3, 8, 0.0001, 1.0, 120, interval_change=(POL_INTERVAL_CHANGE_MS, 4)),
    _c("INJ", 13.6, "small", 2.5, 8, 0.001, 0.1, 150),
    _c("FET", 1.5000, "small", 2.6, 8, 0.0001, 1.0, 180, taker_fee=0.00045),
    _c("RUNE", 8.400, "small", 2.6, 8, 0.001, 1.0, 100),
    _c("TIA", 5.200, "small", 2.7, 4, 0.0001, 0.1, 120),
    _c("SEI", 0.30000, "small", 2.7, 4, 0.00001, 1.0, 90),
    _c("ORDI", 41.0, "small", 2.8, 4, 0.001, 0.1, 110),
    _c("TAO", 410.0, "small", 2.6, 4, 0.01, 0.001, 80, min_notional=10.0),
    _c("JUP", 0.8000, "small", 2.7, 4, 0.0001, 1.0, 70),
    _c("ENA", 0.7000, "micro", 2.9, 4, 0.0001, 1.0, 200),
    _c("WIF", 2.100, "micro", 3.1, 1, 0.0001, 1.0, 300),
    _c("1000PEPE", 0.0091000, "micro", 3.0, 8, 0.0000001, 1.0, 600),
    _c("1000BONK", 0.020000, "micro", 3.2, 1, 0.000001, 1.0, 150),
)
# fmt: on


def _nice_ceil(x: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten, like exchange maxQty values."""
    mag = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * mag >= x:
            return m * mag
    return 10.0 * mag  # pragma: no cover


def build_tiers(spec: CoinSpec) -> tuple[LeverageTier, ...]:
    """Brackets with Binance's ``cum``: cum_i = cum_(i-1) + min_notional_i * (mmr_i - mmr_(i-1))."""
    tiers: list[LeverageTier] = []
    lo, prev_mmr, cum = 0.0, 0.0, 0.0
    for hi, mmr, lev in _TIER_TEMPLATES[spec.cls]:
        hi_scaled = float(hi) * spec.tier_scale
        cum = round(cum + lo * (mmr - prev_mmr), 6)
        tiers.append(LeverageTier(lo, hi_scaled, mmr, cum, float(lev)))
        lo, prev_mmr = hi_scaled, mmr
    return tuple(tiers)


def build_market(spec: CoinSpec, now_ms: int) -> Market:
    tiers = build_tiers(spec)
    max_qty = _nice_ceil(spec.params.max_qty_notional / spec.price0)
    return Market(
        exchange=EXCHANGE_NAME,
        symbol=spec.symbol,
        id=spec.exchange_id,
        base=spec.base,
        quote=QUOTE,
        settle=QUOTE,
        contract_size=1.0,
        amount_step=spec.step,
        price_tick=spec.tick,
        min_qty=spec.step,
        max_qty=max(max_qty, spec.step),
        min_notional=spec.min_notional,
        taker_fee=spec.taker_fee,
        maker_fee=spec.maker_fee,
        max_leverage=tiers[0].max_leverage,
        funding_interval_hours=float(spec.interval_at(now_ms)),
        spot_symbol=spec.spot_symbol,
        active=True,
        tiers=tiers,
        tiers_approximate=False,
    )


def decimals_of(step: float) -> int:
    """Number of decimals of a tick or step (0.001 -> 3, 1.0 -> 0)."""
    return max(0, round(-math.log10(step))) if step < 1 else 0
