"""Exponential backoff with jitter for transient exchange failures."""

from __future__ import annotations

import random

#: No single wait is longer than this, whatever the attempt number or a Retry-After header says.
MAX_BACKOFF_S = 30.0


def backoff_delay(
    attempt: int,
    base_s: float,
    *,
    cap_s: float = MAX_BACKOFF_S,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    ``base_s x 2**attempt``, capped at ``cap_s``, with "equal jitter" (between half and the whole of
    it) so that many clients do not retry in lockstep. A server's Retry-After wins when it is longer,
    still capped.
    """
    rng = rng or random
    expo = min(cap_s, base_s * (2**attempt))
    delay = expo / 2 + rng.uniform(0, expo / 2)
    if retry_after_s is not None and retry_after_s > delay:
        delay = retry_after_s
    return max(0.0, min(cap_s, delay))


def parse_retry_after(headers: object) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unreadable."""
    if not headers:
        return None
    value = None
    try:
        for key in headers:  # type: ignore[attr-defined]
            if str(key).lower() == "retry-after":
                value = headers[key]  # type: ignore[index]
                break
    except TypeError:
        return None
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
