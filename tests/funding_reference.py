"""The scanner's funding statistics computed independently with pandas, from a series of prints.

Definitions: windows (t - N days, t], mean APR = sum of rates x 365 / N, each print annualised by its
own interval (the spacing from the print before; the first print, or one after missing prints, takes
the spacing to the next), sample std (ddof = 1), share of prints > 0, the z-score of the last print
against the 30-day prints, the longest run of same-sign prints. A window counts only when the history
reaches back to its start (one interval of slack).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pytest

from perptui.domain.timeframes import DAY_MS, HOUR_MS


def reference_frame(times: Iterable[int], rates: Iterable[float]) -> pd.DataFrame:
    """Prints as a frame: time (ms), rate, interval (hours) and apr, sorted by time."""
    frame = pd.DataFrame({"time": list(times), "rate": list(rates)}).astype(
        {"time": "int64", "rate": "float64"}
    )
    frame = frame.sort_values("time").reset_index(drop=True)
    gap = (frame["time"].diff() / HOUR_MS).round()
    ok = (gap > 0) & (gap <= 8)
    after = gap.shift(-1)
    frame["interval"] = gap.where(ok, after.where((after > 0) & (after <= 8), 8.0))
    frame["apr"] = frame["rate"] * 24 / frame["interval"] * 365
    return frame


def expected_stats_of(frame: pd.DataFrame, asof: int) -> dict[str, float | int | None]:
    """The statistics of one series (a ``reference_frame``) as of ``asof``, by the definitions."""
    upto = frame[frame["time"] <= asof]
    last = upto.iloc[-1]
    first_time = int(frame["time"].iloc[0])
    out: dict[str, float | int | None] = {
        "last_rate": float(last["rate"]),
        "last_interval": float(last["interval"]),
    }
    for days in (7, 30, 90):
        start = asof - days * DAY_MS
        window = upto[upto["time"] > start]
        reaches = first_time <= start + window["interval"].iloc[0] * HOUR_MS + 60_000
        out[f"mean_{days}"] = float(window["rate"].sum() * 365 / days) if reaches else None
        if days == 30:
            a = window["apr"]
            runs = (window["rate"].apply(lambda r: (r > 0) - (r < 0)).diff() != 0).cumsum()
            lengths = window.groupby(runs).size()
            out["std_30"] = float(a.std()) if reaches else None  # pandas: ddof = 1
            out["pct_30"] = float((window["rate"] > 0).mean()) if reaches else None
            out["z_30"] = float((last["apr"] - a.mean()) / a.std()) if reaches else None
            out["run_30"] = int(lengths.max()) if reaches else None
            out["prints_30"] = len(window) if reaches else 0
    return out


def check(stats, want: dict) -> None:
    """``stats`` (a FundingHistoryStats) equals ``want`` (``expected_stats_of``) to 1e-9."""
    approx = lambda v: None if v is None else pytest.approx(v, rel=1e-9, abs=1e-12)  # noqa: E731
    assert stats.last_rate == want["last_rate"] and stats.last_interval_h == want["last_interval"]
    assert stats.mean_apr == {d: approx(want[f"mean_{d}"]) for d in (7, 30, 90)}
    assert stats.std_apr_30d == approx(want["std_30"])
    assert stats.pct_positive_30d == approx(want["pct_30"])
    assert stats.zscore_30d == approx(want["z_30"])
    assert (stats.longest_run_30d, stats.prints_30d) == (want["run_30"], want["prints_30"])
