"""Retries, backoff and error messages of the ccxt adapter under faults injected by the loopback."""

from __future__ import annotations

import asyncio
import random

import pytest

from perptui.domain.errors import ExchangeUnavailable, PerptuiError
from perptui.services.exchanges import CcxtExchange
from perptui.services.exchanges.retry import (
    MAX_BACKOFF_S,
    RetryNotice,
    backoff_delay,
    parse_retry_after,
    retries_reported_to,
)
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

loopback = fixtures.loopback

INFO = "/fapi/v1/exchangeInfo"


def load(server: LoopbackExchange, **kwargs: object) -> list:
    async def go() -> list:
        ex = CcxtExchange(
            "binanceusdm",
            api_base_url=server.base_url,
            backoff_base_s=0.01,
            max_retries=kwargs.pop("max_retries", 3),  # type: ignore[arg-type]
            timeout_ms=kwargs.pop("timeout_ms", 30_000),  # type: ignore[arg-type]  # only timeout tests set less
        )
        try:
            return await ex.load_markets()
        finally:
            await ex.close()

    return asyncio.run(go())


@pytest.mark.parametrize("status", [418, 429, 500, 502, 503])
def test_recovers_from_http_errors_within_max_retries(loopback: LoopbackExchange, status: int) -> None:
    loopback.faults.http(status, INFO, times=3, retry_after=0.01 if status in (418, 429) else None)
    assert load(loopback, max_retries=3)
    hits = loopback.requests_to(INFO)
    assert [r.fault for r in hits] == ["status"] * 3 + [None]


@pytest.mark.parametrize(
    ("status", "reason"),
    [(429, "rate-limiting"), (418, "rate-limiting"), (500, "server error"), (503, "server error")],
)
def test_gives_up_with_a_clear_message(loopback: LoopbackExchange, status: int, reason: str) -> None:
    loopback.faults.http(status, INFO, times=None)
    with pytest.raises(ExchangeUnavailable) as info:
        load(loopback, max_retries=2)
    message = str(info.value)
    assert message.startswith("binanceusdm could not be reached while loading markets")
    assert reason in message and "after 3 attempts" in message
    assert "\n" not in message and "{" not in message and "http" not in message
    assert len(loopback.requests_to(INFO)) == 3


def test_timeout_is_retried_then_recovers(loopback: LoopbackExchange) -> None:
    loopback.faults.timeout(INFO, times=1, hold_s=5)
    assert load(loopback, timeout_ms=300)
    assert [r.fault for r in loopback.requests_to(INFO)] == ["timeout", None]


def test_timeouts_exhaust_retries(loopback: LoopbackExchange) -> None:
    loopback.faults.timeout(INFO, times=None, hold_s=5)
    with pytest.raises(ExchangeUnavailable, match="timed out; gave up after 2 attempts"):
        load(loopback, timeout_ms=200, max_retries=1)


def test_dropped_connections_are_retried(loopback: LoopbackExchange) -> None:
    loopback.faults.drop(INFO, times=2)
    assert load(loopback)
    with pytest.raises(ExchangeUnavailable, match="connection failed"):
        loopback.faults.drop(INFO, times=None)
        load(loopback, max_retries=1)


def test_latency_is_tolerated(loopback: LoopbackExchange) -> None:
    loopback.faults.latency(0.2, INFO)
    assert load(loopback)


@pytest.mark.parametrize("kind", ["busy", "html", "truncated", "malformed"])
def test_busy_and_unreadable_answers_are_retried(loopback: LoopbackExchange, kind: str) -> None:
    """Binance's 503 {"code":-1001,"msg":"busy"} (ccxt's OperationFailed, not a NetworkError) and 200s
    whose body is an HTML page or cut short (ccxt's BadResponse) are transient: asked again."""
    getattr(loopback.faults, kind)(INFO, times=2)
    assert load(loopback, max_retries=2)
    assert [r.fault for r in loopback.requests_to(INFO)] == [kind, kind, None]


def test_busy_gives_up_with_a_clear_message(loopback: LoopbackExchange) -> None:
    loopback.faults.busy(INFO, times=None)
    with pytest.raises(ExchangeUnavailable) as info:
        load(loopback, max_retries=1)
    assert str(info.value) == (
        "binanceusdm could not be reached while loading markets (the exchange is busy; gave up after "
        "2 attempts); check the connection or try again later"
    )


def test_unreadable_answers_give_up_with_a_clear_message_not_a_crash(loopback: LoopbackExchange) -> None:
    loopback.faults.html(INFO, times=None)
    with pytest.raises(ExchangeUnavailable) as info:
        load(loopback, max_retries=1)
    assert str(info.value) == (
        "binanceusdm sent a response perptui could not read while loading markets (gave up after "
        "2 attempts); try again later"
    )


def test_refusals_are_never_retried(loopback: LoopbackExchange) -> None:
    """A refusal the exchange explains (Binance's 400 {"code":-1121,"msg":"Invalid symbol."}) or a
    rejected key (401) is asked once and reported as it is."""

    async def go() -> list[BaseException]:
        ex = CcxtExchange("binanceusdm", api_base_url=loopback.base_url, backoff_base_s=0.01, max_retries=3)
        found: list[BaseException] = []
        try:
            await ex.load_markets()
            for call in (
                lambda: ex.call("reading", ex.ex.fapiPublicGetPremiumIndex, {"symbol": "NOPEUSDT"}),
                lambda: ex.call("reading", ex.ex.fapiPublicGetTicker24hr, {"symbol": "BTCUSDT"}),
            ):
                try:
                    await call()
                except PerptuiError as exc:
                    found.append(exc)
        finally:
            await ex.close()
        return found

    loopback.faults.http(401, "/fapi/v1/ticker/24hr", times=None)
    found = asyncio.run(go())
    assert len(found) == 2 and not any(isinstance(e, ExchangeUnavailable) for e in found)
    assert len(loopback.requests_to("/fapi/v1/premiumIndex")) == 1
    assert len(loopback.requests_to("/fapi/v1/ticker/24hr")) == 1


def test_retries_are_reported_to_the_listener_of_the_calling_task(loopback: LoopbackExchange) -> None:
    """What a pane shows as "reconnecting": each retry of its own calls, with the reason."""
    loopback.faults.busy(INFO, times=2)
    heard: list[RetryNotice] = []
    with retries_reported_to(heard.append):
        assert load(loopback, max_retries=3)
    assert [(n.attempt, n.max_retries, n.reason) for n in heard] == [
        (1, 3, "the exchange is busy"),
        (2, 3, "the exchange is busy"),
    ]
    assert heard[0].text() == (
        "reconnecting to binanceusdm: the exchange is busy while loading markets (retry 1/3)"
    )
    loopback.faults.busy(INFO, times=1)
    load(loopback)  # outside the block: nobody hears of it
    assert len(heard) == 2


def test_faults_apply_per_path_only(loopback: LoopbackExchange) -> None:
    loopback.faults.http(503, "/fapi/v1/klines", times=None)
    assert load(loopback)
    assert all(r.fault is None for r in loopback.requests)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, 0.5, rng=rng) for n in range(10)]
    for n, d in enumerate(delays):
        expo = min(MAX_BACKOFF_S, 0.5 * 2**n)
        assert expo / 2 <= d <= expo
    assert max(delays) <= MAX_BACKOFF_S
    assert backoff_delay(0, 0.01, retry_after_s=2.0) == 2.0
    assert backoff_delay(0, 0.01, retry_after_s=600) == MAX_BACKOFF_S
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after(None) is None
