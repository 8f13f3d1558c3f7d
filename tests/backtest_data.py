"""Market histories for backtest tests: small ones written by hand, and the real Binance 8h (or 1h)
bars and funding prints of ``../shared/data/binance`` on one grid. Plus a fixed strategy, so the
engine can be tested alone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.types import LayerTargets
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import LeverageTier
from tests.conftest import BINANCE_DATA

T0 = 1_609_459_200_000  # 2021-01-01T00:00Z
TIERS_FILE = "leverage_tiers_2024-10-24.json"


def _grid(values: object, shape: tuple[int, int]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    return np.broadcast_to(array, shape).astype(float)


def hand_history(
    symbols: Sequence[str],
    open: object,
    *,
    close: object | None = None,
    high: object | None = None,
    low: object | None = None,
    spot_open: object | None = None,
    spot_close: object | None = None,
    funding: Iterable[tuple[int, int, float]] = (),
    tiers: Sequence[Sequence[LeverageTier]] = (),
    timeframe: str = "8h",
    t0: int = T0,
) -> MarketHistory:
    """A history from (T, N) arrays (a 1-D array is one symbol's column). ``close`` defaults to the next
    bar's open (the last bar closes at its open), ``high``/``low`` to the larger/smaller of open and
    close, the spot bars to NaN (no spot twin), ``spot_close`` to the next spot open; ``funding`` is
    ``(time_ms, column, rate)`` per print."""
    opens = np.asarray(open, dtype=float)
    opens = opens[:, None] if opens.ndim == 1 else opens
    shape = opens.shape
    if close is None:
        close = np.vstack([opens[1:], opens[-1:]])
    closes = _grid(close, shape)
    highs = np.fmax(opens, closes) if high is None else _grid(high, shape)
    lows = np.fmin(opens, closes) if low is None else _grid(low, shape)
    s_open = np.full(shape, np.nan) if spot_open is None else _grid(spot_open, shape)
    if spot_close is None:
        spot_close = np.vstack([s_open[1:], s_open[-1:]])
    prints = sorted(funding)
    return MarketHistory(
        timeframe=timeframe,
        times=t0 + np.arange(shape[0], dtype=np.int64) * timeframe_ms(timeframe),
        symbols=tuple(symbols),
        open=opens.copy(),
        high=highs,
        low=lows,
        close=closes,
        spot_open=s_open,
        spot_close=_grid(spot_close, shape),
        funding_time=np.array([p[0] for p in prints], dtype=np.int64),
        funding_symbol=np.array([p[1] for p in prints], dtype=np.int64),
        funding_rate=np.array([p[2] for p in prints], dtype=float),
        tiers=tuple(tuple(t) for t in tiers),
    )


def book(
    perp: Sequence[float], spot: Sequence[float] | None = None, leverage: Sequence[float] | None = None
) -> LayerTargets:
    """Targets from plain lists (spot 0 and leverage 1 by default)."""
    p = np.asarray(perp, dtype=float)
    return LayerTargets(
        perp=p,
        spot=np.zeros_like(p) if spot is None else np.asarray(spot, dtype=float),
        leverage=np.ones_like(p) if leverage is None else np.asarray(leverage, dtype=float),
    )


class FixedStrategy:
    """Targets from a function of the bar (or a dict bar -> targets; bars not in it: no view). Records
    the bars it was asked about. ``margin_mode`` sets the attribute the engine reads (None: no
    attribute, the engine's default)."""

    def __init__(
        self,
        targets: Callable[[int], LayerTargets | None] | Mapping[int, LayerTargets],
        name: str = "fixed",
        margin_mode: str | None = None,
    ) -> None:
        self.name = name
        if margin_mode is not None:
            self.margin_mode = margin_mode
        self._targets = targets.get if isinstance(targets, Mapping) else targets
        self.asked: list[int] = []
        self.history: MarketHistory | None = None

    def prepare(self, history: object) -> None:
        assert isinstance(history, MarketHistory)
        self.history = history

    def targets(self, k: int) -> LayerTargets | None:
        self.asked.append(k)
        return self._targets(k)


def always(targets: LayerTargets, name: str = "fixed", margin_mode: str | None = None) -> FixedStrategy:
    """The same targets at every decision."""
    return FixedStrategy(lambda k: targets, name, margin_mode)


# --- real data -------------------------------------------------------------------------------------


def _stem(symbol: str) -> str:
    base, _, rest = symbol.partition("/")
    return base + rest.partition(":")[0] if rest else symbol


@lru_cache(maxsize=64)
def _bars(folder: str, stem: str, timeframe: str) -> pd.DataFrame:
    """One symbol's bars indexed by open time (ms): perp or spot 8h, or both from the 1h file."""
    if timeframe == "8h":
        frame = pd.read_csv(BINANCE_DATA / folder / f"{stem}.csv")
        return frame.set_index("openTime")[["open", "high", "low", "close"]]
    frame = pd.read_csv(BINANCE_DATA / "ohlcv_1h" / f"{stem}.csv.gz").set_index("openTime")
    prefix = "spot_" if folder == "ohlcv_8h_spot" else ""
    fields = ["open", "high", "low", "close"]
    return frame[[prefix + f for f in fields]].set_axis(fields, axis=1)


def _tiers(symbols: Sequence[str]) -> tuple[tuple[LeverageTier, ...], ...]:
    rows = json.loads((BINANCE_DATA / TIERS_FILE).read_text())
    return tuple(
        tuple(
            LeverageTier(
                min_notional=float(t["minNotional"]),
                max_notional=float(t["maxNotional"]),
                mmr=float(t["maintenanceMarginRate"]),
                maint_amount=float(t["info"]["cum"]),
                max_leverage=float(t["maxLeverage"]),
            )
            for t in rows.get(symbol, ())
        )
        for symbol in symbols
    )


def binance_history(symbols: Sequence[str], timeframe: str = "8h") -> MarketHistory | None:
    """The real Binance bars (perp and spot) and funding prints of ``symbols`` (``BTC/USDT:USDT``) on
    one grid from the first to the last bar of any of them (NaN where a symbol has none), with the
    brackets of 2024-10-24. Print times are floored to the second (Binance stamps them a few ms late),
    so a print at a bar's open is paid by the position held before that bar's trades. None when
    ``../shared`` is absent."""
    if not BINANCE_DATA.is_dir():
        return None
    if timeframe not in ("8h", "1h"):
        raise UsageError(f"timeframe {timeframe!r}: the real data has 8h and 1h bars")
    stems = [_stem(s) for s in symbols]
    perp = [_bars("ohlcv_8h_perp", stem, timeframe) for stem in stems]
    spot = [_bars("ohlcv_8h_spot", stem, timeframe) for stem in stems]
    step = timeframe_ms(timeframe)
    first = min(int(f.index.min()) for f in perp)
    last = max(int(f.index.max()) for f in perp)
    times = np.arange(first, last + step, step, dtype=np.int64)

    def column(frames: list[pd.DataFrame], field: str) -> np.ndarray:
        return np.column_stack([f[field].reindex(times).to_numpy(dtype=float) for f in frames])

    prints = []
    for col, stem in enumerate(stems):
        f = pd.read_csv(BINANCE_DATA / "funding" / f"{stem}.csv", usecols=["fundingTime", "fundingRate"])
        prints.append(pd.DataFrame({"time": f.fundingTime // 1000 * 1000, "col": col, "rate": f.fundingRate}))
    funding = pd.concat(prints).sort_values(["time", "col"], kind="stable")
    return MarketHistory(
        timeframe=timeframe,
        times=times,
        symbols=tuple(symbols),
        open=column(perp, "open"),
        high=column(perp, "high"),
        low=column(perp, "low"),
        close=column(perp, "close"),
        spot_open=column(spot, "open"),
        spot_close=column(spot, "close"),
        funding_time=funding["time"].to_numpy(dtype=np.int64),
        funding_symbol=funding["col"].to_numpy(dtype=np.int64),
        funding_rate=funding["rate"].to_numpy(dtype=float),
        tiers=_tiers(symbols),
    )
