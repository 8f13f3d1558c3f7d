"""Timeframes (``1m``, ``1h``, ``8h``, ``1d`` ...) and UTC time helpers in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

from perptui.domain.errors import UsageError

_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
#: The longest bar accepted (a year): longer ones hold no history and overflow the maths.
MAX_TIMEFRAME_MS = 366 * DAY_MS


def timeframe_ms(timeframe: str) -> int:
    """``'8h'`` -> 28_800_000. Raises UsageError for anything that is not N followed by m, h, d or w."""
    text = str(timeframe).strip()
    number, unit = text[:-1], text[-1:]
    # ASCII digits only: str.isdigit also takes '²' and '١', which int() then refuses or misreads.
    ok = unit in _UNIT_MS and number.isascii() and number.isdigit() and len(number) <= 6
    if not ok or int(number) <= 0:
        raise UsageError(
            f"bad timeframe {timeframe!r}: use a whole number followed by m, h, d or w (e.g. 1h, 8h, 1d)"
        )
    ms = int(number) * _UNIT_MS[unit]
    if ms > MAX_TIMEFRAME_MS:
        raise UsageError(f"bad timeframe {timeframe!r}: bars are at most a year long (e.g. 1h, 8h, 1d, 1w)")
    return ms


def parse_utc(text: str, what: str = "date") -> int:
    """Parse ``2024-01-31``, ``2024-01-31T08:00``, ``2024-01-31 08:00:00`` or an ISO time with offset
    into epoch ms. Naive times are UTC."""
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"bad {what} {text!r}: use an ISO date or time in UTC, e.g. 2024-01-31 or 2024-01-31T08:00"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def iso_utc(ms: int | None) -> str | None:
    """Epoch ms -> ``2024-01-31T08:00:00Z``; None stays None."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
