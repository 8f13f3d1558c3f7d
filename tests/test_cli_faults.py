"""`perptui size`, `scan` and `markets` through real ccxt on the loopback Binance while it fails: with a
seeded 30% of requests faulty (every transient kind: busy, 5xx, HTML and truncated bodies, dropped
connections, timeouts) and a full cache, they answer (fresh, or from the cache saying so and how old);
against a server that accepts connections and never answers they answer from the cache once the
command's deadline (``network.deadline_s``) passes, never after ccxt's own timeouts and retries.

The commands run in-process (``perptui.cli.main``) so that 60 runs stay quick; backoff is a millisecond
and ccxt's rate limiter is off (Binance's request weights would space a command's requests by seconds,
which is not what these tests are about).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perptui.cli import main
from perptui.services.clock import SystemClock
from perptui.services.exchanges import CcxtExchange
from perptui.services.store import Store
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange
from tests.test_cli_scan import LOOPBACK_NOW, SERVED_UNTIL

SYMBOLS = ("BTCUSDT", "ETHUSDT")
#: The seeded share of faulty requests, and how many runs of each command must succeed.
FAULT_RATE = 0.3
RUNS_PER_COMMAND = 20


@pytest.fixture
def binance() -> Iterator[LoopbackExchange]:
    yield from fixtures.serve(fixtures.make_real(SERVED_UNTIL))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unthrottled_ccxt: None) -> pytest.MonkeyPatch:
    """perptui's clock at the loopback's time, a fresh cache, quick retries, no rate limiter."""
    monkeypatch.setattr(SystemClock, "now_ms", lambda self: LOOPBACK_NOW)
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "binance.db"))
    monkeypatch.setenv("PERPTUI_NETWORK__MAX_RETRIES", "4")
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.001")
    # No fault here holds a request longer than 0.2 s; a client timeout well above it keeps a request
    # that a loaded machine answers slowly from counting as a failure.
    monkeypatch.setenv("PERPTUI_NETWORK__TIMEOUT_MS", "10000")
    monkeypatch.setenv("PERPTUI_NETWORK__DEADLINE_S", "15")
    return monkeypatch


def commands(server: LoopbackExchange) -> dict[str, list[str]]:
    where = ["--exchange", "binanceusdm", "--api-base-url", server.base_url]
    return {
        "scan": ["scan", *where, "--symbols", *SYMBOLS, "--json"],
        "size": ["size", *where, "--symbol", "BTCUSDT", "--side", "long", "--stop-pct", "2", "--json"],
        "markets": ["markets", *where, "--symbols", *SYMBOLS, "--json"],
    }


def run(capsys: pytest.CaptureFixture, argv: list[str]) -> tuple[int, Any, str]:
    """(exit code, the JSON printed or None, stderr on one line)."""
    code = main(argv)
    captured = capsys.readouterr()
    data = json.loads(captured.out) if code == 0 and captured.out.strip() else None
    return code, data, " ".join(captured.err.split())


def source_of(command: str, data: Any, err: str) -> str:
    """Where a successful run says its market data came from: ``live`` or ``cache``."""
    if command == "scan":
        [found] = data["sources"]
        return found["source"]
    if command == "size":
        return data["market_data"]["source"]
    return "cache" if "markets from the cache" in err else "live"


def fill_cache(capsys: pytest.CaptureFixture, argv: dict[str, list[str]]) -> dict[str, Any]:
    """Each command once with no fault: everything they read is cached; their live answers."""
    live = {}
    for command, args in argv.items():
        code, data, err = run(capsys, args)
        assert code == 0, err
        assert source_of(command, data, err) == "live"
        live[command] = data
    return live


def test_thirty_percent_faults_of_every_kind_and_a_full_cache_59_of_60_runs_succeed(
    binance: LoopbackExchange, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    argv = commands(binance)
    live = fill_cache(capsys, argv)
    # Binance's own timeout answer (408 {"code":-1007}) after 0.2 s: ccxt's client-side timeout (1 s
    # at the least) is met by the silent server's test and tests/test_ccxt_faults.py.
    binance.faults.random(FAULT_RATE, seed=18, hold_s=0.2)
    outcomes: list[tuple[str, int, str, str]] = []
    for _ in range(RUNS_PER_COMMAND):
        for command, args in argv.items():
            code, data, err = run(capsys, args)
            said = source_of(command, data, err) if code == 0 else ""
            outcomes.append((command, code, said, err))
            if code == 0:  # the same perps as the fault-free run, live or cached
                if command == "scan":
                    assert {r["symbol"] for r in data["rows"]} == {r["symbol"] for r in live["scan"]["rows"]}
                    if said == "cache":
                        assert data["sources"][0]["cache_age_s"] is not None
                elif command == "size":
                    assert data["symbol"] == "BTC/USDT:USDT" and data["quantity"] > 0
                else:
                    assert [m["symbol"] for m in data] == [m["symbol"] for m in live["markets"]]
    faulty = [r for r in binance.requests if r.fault is not None]
    kinds = {r.fault for r in faulty}
    assert kinds == {"busy", "status", "html", "truncated", "malformed", "drop", "timeout"}  # every kind
    assert 0.2 < len(faulty) / len(binance.requests) < 0.4
    failed = [o for o in outcomes if o[1] != 0]
    assert len(outcomes) == 3 * RUNS_PER_COMMAND
    assert len(failed) <= 1, failed
    assert all(said in ("live", "cache") for _, code, said, _ in outcomes if code == 0)


def test_a_silent_exchange_is_answered_from_the_cache_within_the_deadline(
    binance: LoopbackExchange, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    argv = commands(binance)
    live = fill_cache(capsys, argv)
    deadline_s = 0.5
    env.setenv("PERPTUI_NETWORK__DEADLINE_S", str(deadline_s))
    env.setenv("PERPTUI_NETWORK__TIMEOUT_MS", "60000")  # ccxt's own timeout would come much later
    binance.faults.silent("*")
    why = f"binanceusdm did not answer within the {deadline_s:g} s deadline"
    for command, args in argv.items():
        started = time.monotonic()
        code, data, err = run(capsys, args)
        elapsed = time.monotonic() - started
        assert code == 0, err
        assert source_of(command, data, err) == "cache", err
        assert why in err
        # The deadline, not ccxt's 60 s timeout and retries (which would take minutes): a wide margin for
        # a loaded machine.
        assert elapsed < 30, (command, elapsed)
        if command == "scan":
            [found] = data["sources"]
            assert found["reason"] == why and found["cache_age_s"] is not None
            assert [r["mean_apr_30d"] for r in data["rows"]] == [
                r["mean_apr_30d"] for r in live["scan"]["rows"]
            ]
        elif command == "size":
            md = data["market_data"]
            assert (
                md["cached"] is True
                and md["reason"] == why
                and md["mark"] == live["size"]["market_data"]["mark"]
            )
        else:
            assert data == live["markets"]
    assert any(r.path == "/fapi/v1/exchangeInfo" for r in binance.requests)  # it was asked, and held


def test_a_history_backfill_the_exchange_stops_answering_ends_with_the_live_rates(
    binance: LoopbackExchange, env: pytest.MonkeyPatch
) -> None:
    """The backfill may take long while pages arrive; once none has for a while (the deadline's length;
    0.3 s here) it stops, and the rows keep their live rates with the history cached so far (none)."""
    from perptui.services.live_or_cache import Deadline
    from perptui.services.scan_service import Backfill, scan_exchange

    binance.faults.silent("/fapi/v1/fundingRate")

    async def go() -> Any:
        source = CcxtExchange("binanceusdm", api_base_url=binance.base_url, timeout_ms=60_000)
        try:
            with Store.open(":memory:") as store:
                pick = lambda markets: [m for m in markets if m.symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT")]  # noqa: E731
                return await scan_exchange(
                    source, store, "binanceusdm", LOOPBACK_NOW, Deadline(60, "binanceusdm"),
                    select=pick, backfill=Backfill(stall_s=0.3),
                )  # fmt: skip
        finally:
            await source.close()

    found = asyncio.run(go()).result
    assert found.freshness.live and found.backfill is None
    assert found.backfill_stopped == "binanceusdm sent nothing for 0.3 s"
    assert len(found.scan.rows) == 2
    for row in found.scan.rows:
        assert row.funding_rate is not None and row.mean_apr_7d is None
    assert binance.requests_to("/fapi/v1/fundingRate")  # asked, and held
