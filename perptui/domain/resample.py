"""Coarser bars from finer ones (1h -> 4h, 8h or 1d; 8h -> 1d). Pure.

A coarse bar is made only from a complete group: every fine bar of its span present. A group with a
missing fine bar gives no coarse bar (a gap stays a gap): its open, high, low or close would be a
guess. Coarse bars open on multiples of their length since the epoch (00:00 UTC for 1d; 00, 08, 16 UTC
for 8h), as the exchanges' do.
"""

from __future__ import annotations

from collections.abc import Sequence

from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle


def can_resample(fine: str, coarse: str) -> bool:
    f, c = timeframe_ms(fine), timeframe_ms(coarse)
    return f < c and c % f == 0


def resample(bars: Sequence[Candle], fine: str, coarse: str) -> list[Candle]:
    """``bars`` (oldest first, at most one per ``fine`` span) as complete ``coarse`` bars."""
    if not can_resample(fine, coarse):
        raise ValueError(f"cannot build {coarse} bars from {fine} bars")
    f, c = timeframe_ms(fine), timeframe_ms(coarse)
    need = c // f
    groups: dict[int, list[Candle]] = {}
    for bar in bars:
        if bar.time % f == 0:
            groups.setdefault(bar.time - bar.time % c, []).append(bar)
    return [
        _merge(start, group)
        for start, group in groups.items()
        if len(group) == need and len({b.time for b in group}) == need
    ]


def _merge(start: int, group: list[Candle]) -> Candle:
    return Candle(
        time=start,
        open=group[0].open,
        high=max(b.high for b in group),
        low=min(b.low for b in group),
        close=group[-1].close,
        volume=sum(b.volume for b in group),
    )
