"""Real Binance returns and funding for the optimiser and estimator tests (from ../shared/data/binance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SYMBOLS = (
    "BTCUSDT",
    "ETHUSDT",
    "SOLUSDT",
    "BNBUSDT",
    "XRPUSDT",
    "DOGEUSDT",
    "ADAUSDT",
    "LINKUSDT",
    "LTCUSDT",
)
END = "2025-06-01"


def daily_returns(data: Path, symbols: tuple[str, ...] = SYMBOLS, days: int = 365) -> pd.DataFrame:
    """Simple daily returns of the perps' closes over the ``days`` days before END (columns = symbols)."""
    closes = {
        s: pd.read_csv(data / "ohlcv_1d_perp" / f"{s}.csv", index_col="date", parse_dates=True)["close"]
        for s in symbols
    }
    frame = pd.DataFrame(closes).loc[:END].dropna()
    return frame.pct_change().dropna().iloc[-days:]


def hourly_returns(
    data: Path, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"), hours: int = 2160
) -> pd.DataFrame:
    closes = {}
    for s in symbols:
        f = pd.read_csv(data / "ohlcv_1h" / f"{s}.csv.gz", usecols=["openTime", "close"])
        closes[s] = f.set_index("openTime")["close"]
    frame = pd.DataFrame(closes).dropna()
    end = pd.Timestamp(END, tz="UTC").value // 1_000_000
    return frame.loc[:end].pct_change().dropna().iloc[-hours:]


def funding_apr(data: Path, symbols: tuple[str, ...] = SYMBOLS, days: int = 30) -> np.ndarray:
    """Sum of the settled rates in the ``days`` before END x 365 / days (the scanner's mean APR)."""
    end = pd.Timestamp(END, tz="UTC").value // 1_000_000
    start = end - days * 86_400_000
    out = []
    for s in symbols:
        f = pd.read_csv(data / "funding" / f"{s}.csv", usecols=["fundingTime", "fundingRate"])
        window = f[(f.fundingTime > start) & (f.fundingTime <= end)]
        out.append(float(window.fundingRate.sum()) * 365 / days)
    return np.array(out)
