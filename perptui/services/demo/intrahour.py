"""Inside one hour: a seeded Brownian bridge from the bar's open to its close through its high and low.

Live ticks, the current (partial) bar and sub-hour bars all read this path, so the partial bar always
matches the tick and the finished hour always equals the stored hourly bar. The path is generated on
demand for the hours asked about (history keeps only O/H/L/C), one knot every 10 seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perptui.services.demo.rng import block_rng

KNOTS = 360  # steps per hour
KNOT_MS = 3_600_000 // KNOTS


@dataclass(frozen=True, slots=True)
class HourPath:
    knots: np.ndarray  # KNOTS + 1 prices on the tick grid; [0] = open, [-1] = close
    cum_volume: np.ndarray  # KNOTS + 1 cumulative fractions of the hour's volume, 0 .. 1

    def at(self, offset_ms: int, decimals: int) -> tuple[float, float, float, float]:
        """(price, high so far, low so far, volume fraction so far) ``offset_ms`` into the hour."""
        pos = min(max(offset_ms, 0), 3_600_000) / KNOT_MS
        j = min(int(pos), KNOTS - 1)
        frac = pos - j
        a, b = float(self.knots[j]), float(self.knots[j + 1])
        price = round(a + (b - a) * frac, decimals)
        seen = self.knots[: j + 1]
        high = max(float(seen.max()), price)
        low = min(float(seen.min()), price)
        cw0, cw1 = float(self.cum_volume[j]), float(self.cum_volume[j + 1])
        return price, high, low, cw0 + (cw1 - cw0) * frac


def hour_path(
    seed: int,
    key: int,
    hour: int,
    bar: tuple[float, float, float, float],
    sigma: float,
    decimals: int,
) -> HourPath:
    """The path of hour ``hour`` (index from the origin) for a bar (open, high, low, close)."""
    o, h, lo, c = bar
    rng = block_rng(seed, key, hour, stream=3)
    steps = rng.standard_normal(KNOTS) / math.sqrt(KNOTS)
    s = np.arange(KNOTS + 1) / KNOTS
    w = np.concatenate(([0.0], np.cumsum(steps)))
    log_o, log_c = math.log(o), math.log(c)
    path = log_o + s * (log_c - log_o) + sigma * (w - s * w[-1])

    # Stretch the excursions monotonically so the path's extremes are exactly the bar's high and low.
    top, bottom = max(log_o, log_c), min(log_o, log_c)
    inner = path[1:KNOTS]
    pmax, pmin = float(inner.max()), float(inner.min())
    if pmax > top:
        up = path > top
        path[up] = top + (path[up] - top) * ((math.log(h) - top) / (pmax - top))
    if pmin < bottom:
        down = path < bottom
        path[down] = bottom - (bottom - path[down]) * ((bottom - math.log(lo)) / (bottom - pmin))
    knots = np.clip(np.round(np.exp(path), decimals), lo, h)
    i_max = 1 + int(np.argmax(inner))
    i_min = 1 + int(np.argmin(inner))
    if i_min == i_max:
        i_min = KNOTS // 2 if i_max != KNOTS // 2 else KNOTS // 2 + 1
    knots[0], knots[-1] = o, c
    knots[i_max], knots[i_min] = h, lo

    # Volume follows activity: more of it where the path moves.
    moves = np.abs(np.diff(np.log(knots)))
    weights = moves + 0.5 * float(moves.mean()) + 1e-12
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    cum /= cum[-1]
    return HourPath(knots, cum)


def sub_bars(
    path: HourPath,
    hour_volume: float,
    knots_per_bar: int,
    decimals: int,
    vol_decimals: int,
    upto_ms: int | None = None,
) -> list[tuple[int, float, float, float, float, float]]:
    """Sub-hour bars (offset ms, open, high, low, close, volume) of one hour.

    ``upto_ms`` cuts the bar containing that offset short (it closes at the tick of that moment) and drops
    later ones; a bar opening exactly at ``upto_ms`` is included, flat and empty, as an exchange shows it.
    Volumes are differences of the rounded cumulative volume, so they add up to the hour's exactly.
    """
    out: list[tuple[int, float, float, float, float, float]] = []
    k = path.knots
    cum = np.round(path.cum_volume * hour_volume, vol_decimals)
    for a in range(0, KNOTS, knots_per_bar):
        start_ms = a * KNOT_MS
        if upto_ms is not None and start_ms > upto_ms:
            break
        b = a + knots_per_bar
        if upto_ms is not None and upto_ms < b * KNOT_MS:
            price, _, _, vol_frac = path.at(upto_ms, decimals)
            j = min(int(upto_ms // KNOT_MS), KNOTS - 1)
            seen = k[a : j + 1]
            high = max(float(seen.max()), price)
            low = min(float(seen.min()), price)
            volume = round(round(hour_volume * vol_frac, vol_decimals) - float(cum[a]), vol_decimals)
            out.append((start_ms, float(k[a]), high, low, price, volume))
            break
        seg = k[a : b + 1]
        volume = round(float(cum[b]) - float(cum[a]), vol_decimals)
        out.append((start_ms, float(k[a]), float(seg.max()), float(seg.min()), float(k[b]), volume))
    return out
