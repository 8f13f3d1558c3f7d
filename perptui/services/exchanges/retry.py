"""Exponential backoff with jitter for transient exchange failures."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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
    uniform = rng.uniform if rng is not None else random.uniform
    expo = min(cap_s, base_s * (2**attempt))
    delay = expo / 2 + uniform(0, expo / 2)
    if retry_after_s is not None and retry_after_s > delay:
        delay = retry_after_s
    return max(0.0, min(cap_s, delay))


def parse_retry_after(headers: object) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unreadable."""
    if not headers:
        return None
    value = None
    try:
        for key in headers:  # type: ignore[attr-defined]  # any mapping the client hands over; TypeError caught
            if str(key).lower() == "retry-after":
                value = headers[key]  # type: ignore[index]  # as above: a mapping, else TypeError
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


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """One failed request about to be retried: what is going on while a pane waits."""

    exchange: str
    what: str  # e.g. "loading markets"
    attempt: int  # the retry about to be made, 1 for the first
    max_retries: int
    reason: str  # e.g. "the exchange is busy"
    delay_s: float

    def text(self) -> str:
        return (
            f"reconnecting to {self.exchange}: {self.reason} while {self.what} "
            f"(retry {self.attempt}/{self.max_retries})"
        )


RetryListener = Callable[[RetryNotice], object]  # what it returns is ignored

#: Who hears of the retries of the calls made in this context (an asyncio task and the tasks it
#: starts): a pane's worker sets it, so only its own calls reach it, whoever else shares the source.
_listener: ContextVar[RetryListener | None] = ContextVar("perptui_retry_listener", default=None)


@contextmanager
def retries_reported_to(listener: RetryListener | None) -> Iterator[None]:
    """Within the block, every retry of an exchange call made from this context calls ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report_retry(notice: RetryNotice) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(notice)
