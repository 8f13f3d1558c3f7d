"""`perptui watch` and the alert engine (issue 21): an hour of simulated time on the demo market with a
clock the test drives, delivery to a loopback receiver, no duplicate after a restart or beside a second
process, secrets kept out of the output, and a clean end on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from perptui.config.loader import load_settings
from perptui.domain.paper import OrderRequest
from perptui.services.alerts.notify import Notifier
from perptui.services.alerts.watch import Watcher
from perptui.services.clock import FrozenClock
from perptui.services.paper import open_engine
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from tests.loopback.notify_receiver import NotifyReceiver

START = 1_748_736_000_000  # 2025-06-01T00:00Z
BTC = "BTCDEMO/USDT:USDT"


def settings(**alerts: Any):
    return load_settings({"alerts": alerts} if alerts else {}, {})


async def open_position(store: Store, clock: FrozenClock, leverage: float = 20) -> None:
    """A 20x long without a stop: near liquidation (the default rule's 5%) and stopless."""
    s = settings()
    source = open_market_data(s, store, clock)
    try:
        engine = open_engine(s, store, clock, await source.load_markets())
        rates = await source.fetch_funding_rates([BTC])
        engine.place_order(OrderRequest(BTC, "long", 0.05, leverage=leverage, mark=rates[BTC].mark))
    finally:
        await source.close()


def watcher(s, store: Store, clock: FrozenClock, lines: list[dict[str, Any]]) -> Watcher:
    return Watcher(s, store, clock, Notifier.from_settings(s), lines.append)


def alerts(lines: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(x["rule"], x["kind"], x["symbol"]) for x in lines if x["event"] == "alert"]


def test_an_hour_of_watching_fires_each_alert_once_with_memory_and_cache_bounded(tmp_path: Path) -> None:
    async def go() -> tuple[list[dict[str, Any]], int, int]:
        clock = FrozenClock(START)
        with Store.open(tmp_path / "cache.db") as store:
            await open_position(store, clock)
            lines: list[dict[str, Any]] = []
            w = watcher(settings(), store, clock, lines)
            await w.open()
            await w.tick()
            tracemalloc.start()
            first = tracemalloc.get_traced_memory()[0]
            for _ in range(119):  # an hour at the default 30 s
                clock.advance(30_000)
                await w.tick()
            grown = tracemalloc.get_traced_memory()[0] - first
            tracemalloc.stop()
            await w.close()
        size = sum(p.stat().st_size for p in tmp_path.glob("cache.db*"))
        return lines, grown, size

    lines, grown, size = asyncio.run(go())
    fired = alerts(lines)
    assert ("liq-distance", "fired", BTC) in fired and ("no-stop", "fired", BTC) in fired
    for key in {
        (rule, symbol) for rule, _, symbol in fired
    }:  # fired, cleared, fired ...: never twice running
        kinds = [kind for rule, kind, symbol in fired if (rule, symbol) == key]
        assert all(kind == ("fired", "cleared")[i % 2] for i, kind in enumerate(kinds)), (key, kinds)
    assert fired.count(("no-stop", "fired", BTC)) == 1  # the stop never came: one notification in an hour
    assert grown < 5_000_000, f"{grown:,} bytes held after an hour"
    assert size < 20_000_000, f"the cache grew to {size:,} bytes"
    assert lines[0]["event"] == "watching" and lines[-1]["event"] == "stopped"


def test_a_restart_and_a_second_process_on_the_same_cache_send_nothing_again(tmp_path: Path) -> None:
    async def go() -> list[list[dict[str, Any]]]:
        clock = FrozenClock(START)
        runs = []
        with Store.open(tmp_path / "cache.db") as store:
            await open_position(store, clock)
        for _ in range(3):  # the watch, its restart, and the app beside it: each its own store
            with Store.open(tmp_path / "cache.db") as store:
                lines: list[dict[str, Any]] = []
                w = watcher(settings(), store, clock, lines)
                await w.open()
                await w.tick()
                await w.close()
                runs.append(lines)
            clock.advance(30_000)
        return runs

    first, again, beside = asyncio.run(go())
    assert ("no-stop", "fired", BTC) in alerts(first)
    assert alerts(again) == [] and alerts(beside) == []


def test_fired_alerts_reach_the_receiver_once_and_the_token_never_shows(tmp_path: Path) -> None:
    async def go(receiver: NotifyReceiver) -> list[dict[str, Any]]:
        clock = FrozenClock(START)
        s = settings(notify=[receiver.json_url()])
        with Store.open(tmp_path / "cache.db") as store:
            await open_position(store, clock)
            lines: list[dict[str, Any]] = []
            w = watcher(s, store, clock, lines)
            await w.open()
            await w.tick()
            clock.advance(30_000)
            await w.tick()
            await w.close()
        return lines

    async def main() -> tuple[list[dict[str, Any]], list[Any]]:
        async with NotifyReceiver() as receiver:
            lines = await go(receiver)
            return lines, [r.json for r in receiver.requests]

    lines, bodies = asyncio.run(main())
    titles = sorted(b["title"] for b in bodies)
    assert len(bodies) == len(alerts(lines)) >= 2  # each alert once, none on the second poll
    assert any("no stop-loss" in t for t in titles) and any("liquidation" in t for t in titles)
    text = json.dumps(lines)
    assert "s3cr3t" not in text and all(
        d["ok"] for x in lines if x["event"] == "alert" for d in x["delivered"]
    )


def test_watch_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PERPTUI_DB": str(tmp_path / "cache.db"),
        "PERPTUI_DEMO__FROZEN_AT": "2025-06-01T00:00",
        "PERPTUI_CONFIG": str(tmp_path / "c.toml"),
    }
    (tmp_path / "c.toml").write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-m", "perptui", "watch", "--interval", "5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # printed once the account is open: the loop is running
        assert first["event"] == "watching"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["event"] == "stopped"
    assert "Traceback" not in err


@pytest.mark.parametrize("url", ["json://", "nosuch://x"])
def test_a_bad_target_is_refused_before_watching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, url: str
) -> None:
    from tests.cli_helpers import run_error

    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "cache.db"))
    monkeypatch.setenv("PERPTUI_ALERTS__NOTIFY", url)
    code, line = run_error(capsys, "watch", "--once")
    assert code == 2 and "alerts.notify" in line
    assert not (tmp_path / "cache.db").exists()


def test_a_funding_rule_on_every_perp_watches_the_whole_scanner_once_per_start(tmp_path: Path) -> None:
    async def go() -> list[dict[str, Any]]:
        clock = FrozenClock(START)
        rule = {"id": "hot-funding", "kind": "funding_apr", "threshold": 0.01, "symbol": "*"}
        with Store.open(tmp_path / "cache.db") as store:
            lines: list[dict[str, Any]] = []
            w = watcher(settings(rules=[rule]), store, clock, lines)
            await w.open()
            for _ in range(3):
                await w.tick()
                clock.advance(30_000)
            await w.close()
        return lines

    fired = [(rule, symbol) for rule, kind, symbol in alerts(asyncio.run(go())) if kind == "fired"]
    hot = {symbol for rule, symbol in fired if rule == "hot-funding"}
    assert len(hot) >= 10  # perps nobody holds, from the exchange's whole list
    assert len([f for f in fired if f[0] == "hot-funding"]) == len(hot)  # each once in three polls
