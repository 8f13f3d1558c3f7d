"""Fault injection for the loopback exchange: per path pattern, for the next N requests."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

FaultKind = Literal[
    "latency",
    "timeout",
    "status",
    "malformed",
    "drop",
    "busy",
    "html",
    "truncated",
    "silent",
    "random",
    "accept_timeout",
    "reject",
    "partial",
]

#: What a ``random`` fault picks from, one kind per faulty request: every transient failure class an
#: exchange shows (latency only slows, so it is not one; ``silent`` holds until the server stops, so
#: it is tested on its own).
RANDOM_KINDS: tuple[FaultKind, ...] = ("busy", "status", "html", "truncated", "malformed", "drop", "timeout")


#: The fraction a ``partial`` fault lets the next market order fill, handed from the server's middleware to
#: the order book through the request.
PARTIAL_FILL = web.RequestKey("loopback_partial", float)


@dataclass
class Fault:
    """One injected fault.

    kind: ``latency`` (answer normally after ``delay_s``), ``timeout`` (no answer for ``delay_s``,
    default 30 s, so the client gives up), ``status`` (HTTP ``status`` with a Binance-like body and, if
    set, a Retry-After header), ``malformed`` (200 with truncated JSON), ``drop`` (close the connection
    without an answer), ``busy`` (``status``, 503 by default, with the exchange's JSON "busy" body:
    Binance's ``{"code":-1001,"msg":"busy"}``), ``html`` (200 with an HTML page, as a proxy or a
    maintenance page sends), ``truncated`` (200 with the first half of the real answer), ``silent``
    (accept the request and never answer, until the server stops), ``random`` (for a seeded ``rate``
    of the matching requests, one of ``kinds`` picked at random; the others pass).
    Order faults: ``accept_timeout`` (the request is acted on, e.g. the order placed and filled, but the
    answer is held ``delay_s``, default 30 s, or until the server stops: the client times out not knowing),
    ``reject`` (the exchange's rejection body with ``code`` and ``msg``, e.g. Binance -2019 or Bybit
    110007; ``msg`` None for the exchange's own text), ``partial`` (the next market order fills only
    ``fraction`` of its quantity, the rest expires).
    path: an fnmatch pattern against the request path, e.g. ``/fapi/v1/klines`` or ``/fapi/*``.
    times: how many matching requests it hits; None for all of them.
    """

    kind: FaultKind
    path: str = "*"
    times: int | None = 1
    status: int = 503
    retry_after: float | None = None
    delay_s: float = 0.0
    hits: int = 0
    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = RANDOM_KINDS
    rng: random.Random = field(default_factory=random.Random)
    code: int = 0
    msg: str | None = None
    fraction: float = 1.0

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times


class FaultPlan:
    """Thread-safe list of faults; the server takes the first live match for each request. Latency
    faults add up with any other fault that matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def latency(self, delay_s: float, path: str = "*", times: int | None = None) -> Fault:
        return self.add(Fault("latency", path, times, delay_s=delay_s))

    def timeout(self, path: str = "*", times: int | None = 1, hold_s: float = 30.0) -> Fault:
        return self.add(Fault("timeout", path, times, delay_s=hold_s))

    def http(
        self, status: int, path: str = "*", times: int | None = 1, retry_after: float | None = None
    ) -> Fault:
        return self.add(Fault("status", path, times, status=status, retry_after=retry_after))

    def malformed(self, path: str = "*", times: int | None = 1) -> Fault:
        return self.add(Fault("malformed", path, times))

    def drop(self, path: str = "*", times: int | None = 1) -> Fault:
        return self.add(Fault("drop", path, times))

    def busy(self, path: str = "*", times: int | None = 1, status: int = 503) -> Fault:
        return self.add(Fault("busy", path, times, status=status))

    def html(self, path: str = "*", times: int | None = 1) -> Fault:
        return self.add(Fault("html", path, times))

    def truncated(self, path: str = "*", times: int | None = 1) -> Fault:
        return self.add(Fault("truncated", path, times))

    def silent(self, path: str = "*", times: int | None = None) -> Fault:
        return self.add(Fault("silent", path, times))

    def random(
        self,
        rate: float,
        *,
        seed: int,
        path: str = "*",
        kinds: tuple[FaultKind, ...] = RANDOM_KINDS,
        hold_s: float = 30.0,
    ) -> Fault:
        """A seeded ``rate`` (0 to 1) of the matching requests gets one of ``kinds``; ``timeout`` ones
        hold ``hold_s``."""
        fault = Fault("random", path, None, delay_s=hold_s, rate=rate, kinds=kinds, rng=random.Random(seed))
        return self.add(fault)

    def accept_then_timeout(self, path: str = "*", times: int | None = 1, hold_s: float = 30.0) -> Fault:
        """Act on the request (place the order) but hold the answer ``hold_s`` (or until the server stops)."""
        return self.add(Fault("accept_timeout", path, times, delay_s=hold_s))

    def reject(self, code: int, path: str = "*", msg: str | None = None, times: int | None = 1) -> Fault:
        """Refuse the request with the exchange's error ``code`` (and its own message unless ``msg``)."""
        return self.add(Fault("reject", path, times, code=code, msg=msg))

    def partial_fill(self, fraction: float, path: str = "*", times: int | None = 1) -> Fault:
        """The next market order on ``path`` fills only ``fraction`` (0 to 1) of its quantity."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial fill fraction {fraction} is not between 0 and 1")
        return self.add(Fault("partial", path, times, fraction=fraction))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> tuple[float, Fault | None]:
        """(latency to add, the fault to apply or None) for one request, counting the hits."""
        delay = 0.0
        chosen: Fault | None = None
        with self._lock:
            for fault in self._faults:
                if fault.spent or not fault.matches(path):
                    continue
                if fault.kind == "latency":
                    fault.hits += 1
                    delay += fault.delay_s
                elif fault.kind == "random" and chosen is None:
                    fault.hits += 1
                    if fault.rng.random() < fault.rate:
                        chosen = Fault(fault.rng.choice(fault.kinds), fault.path, 1, delay_s=fault.delay_s)
                elif chosen is None:
                    fault.hits += 1
                    chosen = fault
        return delay, chosen
