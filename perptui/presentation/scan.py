"""How the funding scanner words its figures, shared by the pane and ``perptui scan``. Pure text, no
Textual: ``—`` for anything unknown."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from perptui.presentation.numbers import UNKNOWN

if TYPE_CHECKING:
    from perptui.domain.coverage import WindowCoverage


def perp_name(symbol: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC``; other quotes stay visible (``BTC/USDC``)."""
    return symbol.split(":")[0].removesuffix("/USDT")


def signed_pct(value: float | None, digits: int) -> str:
    """A fraction as a signed percent: 0.0001 -> ``+0.0100%`` (4 digits); huge APRs drop the decimals."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    if digits and abs(value) >= 100:  # 10,000% and up: the decimals are noise and widen the column
        digits = 0
    return f"{value * 100:+.{digits}f}%"


def money_short(value: float | None) -> str:
    """``$1.2B``, ``$350.0M``, ``$12.5k``, ``$900``."""
    if value is None or not math.isfinite(value):
        return UNKNOWN
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"${value / size:,.1f}{suffix}"
    return f"${value:,.0f}"


def days(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return UNKNOWN
    return f"{value:,.1f}"


def share(value: float | None) -> str:
    """A fraction of prints as a whole percent: 0.634 -> ``63%``."""
    return UNKNOWN if value is None else f"{value * 100:.0f}%"


def countdown(ms: int | None) -> str:
    """Time left as ``7h59m``; ``0h00m`` once due."""
    if ms is None:
        return UNKNOWN
    minutes = max(0, ms) // 60_000
    return f"{minutes // 60}h{minutes % 60:02d}m"


def countdown_to(when: int | None, now: int) -> str:
    return countdown(None if when is None else when - now)


def perp_side(direction: str | None) -> str:
    """The perp's side of the carry (the spot leg takes the other side)."""
    return {"long_spot_short_perp": "short perp", "long_perp_short_spot": "long perp"}.get(
        direction or "", UNKNOWN
    )


def interval(hours: float | None, inferred: bool = False) -> str:
    """``8h``; ``8h~`` when read from the spacing of the prints rather than stated by the exchange."""
    if hours is None:
        return UNKNOWN
    return f"{hours:g}h" + ("~" if inferred else "")


def held(window: WindowCoverage) -> str:
    """The prints a window holds as a whole percent of those expected (``37%``; ``—`` when unknown); a
    window short of complete never rounds up to ``100%``."""
    if not window.expected:
        return UNKNOWN
    percent = window.prints * 100 / window.expected
    shown = min(100, round(percent)) if window.complete else min(99, math.floor(percent))
    return f"{shown}%"


def coverage_line(windows: tuple[WindowCoverage, ...]) -> str:
    """``7d 21/21 · 30d 90/90 · 90d 100/270 (incomplete)``."""
    if not windows:
        return UNKNOWN
    parts = [f"{w.label} {w.prints}/{'?' if w.expected is None else w.expected}" for w in windows]
    short = [w for w in windows if w.expected is not None and not w.complete]
    return " · ".join(parts) + (" (incomplete)" if short else "")


def held_shares(windows: tuple[WindowCoverage, ...]) -> str:
    """``100% · 58% · 86%``: each window's prints held (``held``), for a narrow panel."""
    return " · ".join(held(w) for w in windows) if windows else UNKNOWN
