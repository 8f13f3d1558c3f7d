"""The live commands end to end, in-process, against the loopback Binance (the demo market in Binance's
format), and the promise that paper, read-only and demo modes never send anything but reads.

BTCDEMO's mark on this loopback is 85,913.487 (the demo market, seed 7, at the frozen time)."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import run_error, run_json
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

STOP, TP = "80000", "90000"
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")


@pytest.fixture
def server() -> Iterator[LoopbackExchange]:
    loop = fixtures.make_demo()
    loop.account.positions = []
    loop.account.wallet_balance = 10_000.0
    yield from fixtures.serve(loop)


@pytest.fixture
def exchange_env(
    server: LoopbackExchange, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LoopbackExchange:
    """binanceusdm at the loopback, with keys, a fresh cache; the paper account (no live trading yet)."""
    for name, value in {
        "PERPTUI_EXCHANGE": "binanceusdm",
        "PERPTUI_API_BASE_URL": server.base_url,
        "PERPTUI_API_KEY": "loopback-key",
        "PERPTUI_API_SECRET": "loopback-secret",
        "PERPTUI_DB": str(tmp_path / "cache.db"),
    }.items():
        monkeypatch.setenv(name, value)
    return server


@pytest.fixture
def live(exchange_env: LoopbackExchange, monkeypatch: pytest.MonkeyPatch) -> LoopbackExchange:
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    monkeypatch.setenv("PERPTUI_TRADING__LIVE", "true")
    return exchange_env


def on_a_terminal(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """stdin is a terminal and the trader types ``answers`` in turn; returns the prompts shown."""
    prompts: list[str] = []
    typed = iter(answers)

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", fake_input)
    return prompts


ORDER = ("order", "--symbol", "BTCDEMO", "--side", "long", "--qty", "0.01", "--stop", STOP, "--tp", TP)


def test_paper_and_read_only_modes_send_nothing_but_reads(
    exchange_env: LoopbackExchange, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the paper account on a real exchange's prices, even with trading.live set: orders stay local
    monkeypatch.setenv("PERPTUI_TRADING__LIVE", "true")
    run_json(capsys, "paper", "order", "--symbol", "BTCDEMO", "--side", "long", "--qty", "0.01",
             "--stop", STOP, "--tp", TP, "--yes", "--json")  # fmt: skip
    run_json(capsys, "paper", "close", "BTCDEMO", "--json")
    run_json(capsys, "size", "--symbol", "BTCDEMO", "--side", "long", "--stop", STOP, "--json")
    code, line = run_error(capsys, *ORDER, "--yes")
    assert code == 2 and 'account = "exchange"' in line
    # the exchange's account, read-only (live trading off)
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    monkeypatch.setenv("PERPTUI_TRADING__LIVE", "false")
    run_json(capsys, "account", "--json")
    run_json(capsys, "risk", "--json")
    for argv in (ORDER, ("orders", "open"), ("orders", "kill"), ("orders", "close", "BTCDEMO")):
        code, line = run_error(capsys, *argv)
        assert code == 2 and "live orders are off" in line
    assert exchange_env.requests, "the commands did read the exchange"
    assert exchange_env.non_get_requests() == []


def test_the_demo_market_takes_no_live_order(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_TRADING__LIVE", "true")
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    code, line = run_error(capsys, *ORDER)
    assert code == 2 and line.endswith(
        "the demo market takes no live orders: set exchange (binanceusdm or bybit)"
    )


def test_yes_is_refused_unless_allowed_and_a_script_cannot_confirm(
    live: LoopbackExchange, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line = run_error(capsys, *ORDER, "--yes")
    assert code == 2 and "--yes is refused for live orders" in line
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, line = run_error(capsys, *ORDER)
    assert code == 2 and "confirmed on a terminal" in line
    assert live.non_get_requests() == []


def test_a_bare_enter_sends_nothing_and_the_typed_symbol_sends_every_order(
    live: LoopbackExchange, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_a_terminal(monkeypatch, "")
    from perptui.cli import main

    assert main(list(ORDER)) == 1
    shown = capsys.readouterr()
    assert "nothing sent" in shown.out
    # every order as it will be sent: exchange symbol, amount, type, trigger at the tick, reduce-only
    assert "entry  BUY  MARKET BTCDEMOUSDT 0.010 BTCDEMO at market" in shown.err
    assert "stop   SELL STOP-MARKET BTCDEMOUSDT 0.010 BTCDEMO trigger 80,000.0" in shown.err
    assert "└ reduce-only · id pt" in shown.err and "binanceusdm LIVE (real money)" in shown.err
    assert live.non_get_requests() == []

    prompts = on_a_terminal(monkeypatch, "btcdemo")
    assert main([*ORDER, "--json"]) == 0
    outcome = __import__("json").loads(capsys.readouterr().out)
    assert "type BTCDEMO or y" in prompts[0]
    assert outcome["entry"]["outcome"] == "ok" and [p["outcome"] for p in outcome["protective"]] == [
        "ok",
        "ok",
    ]
    assert not outcome["naked"]
    paths = [r.path for r in live.non_get_requests()]
    assert paths == ["/fapi/v1/order", "/fapi/v1/algoOrder", "/fapi/v1/algoOrder"]

    book = run_json(capsys, "orders", "open", "--json")
    [position] = book["positions"]
    assert position["qty"] == pytest.approx(0.01) and position["protected"] and position["stop"] == 80_000
    log = run_json(capsys, "orders", "--json")["log"]
    assert [(r["action"], r["label"], r["outcome"]) for r in log] == [
        ("place", "entry", "ok"),
        ("place", "stop", "ok"),
        ("place", "TP1", "ok"),
    ]


def test_with_allow_yes_a_script_orders_and_the_kill_switch_needs_kill_typed(
    live: LoopbackExchange, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_TRADING__ALLOW_YES", "true")
    placed = run_json(capsys, *ORDER, "--yes", "--json")
    assert placed["entry"]["outcome"] == "ok"
    code, line = run_error(capsys, "orders", "kill")  # not a terminal
    assert code == 2 and "typing KILL" in line

    from perptui.cli import main

    on_a_terminal(monkeypatch, "y")
    assert main(["orders", "kill"]) == 1  # y is not KILL
    assert "nothing sent" in capsys.readouterr().out
    assert run_json(capsys, "orders", "open", "--json")["positions"]
    on_a_terminal(monkeypatch, "KILL")
    assert main(["orders", "kill", "--json"]) == 0
    killed = __import__("json").loads(capsys.readouterr().out)
    assert killed["left"] == {"positions": [], "orders": []} and killed["errors"] == []


def test_move_cancel_and_close_from_the_command_line(
    live: LoopbackExchange, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_TRADING__ALLOW_YES", "true")
    placed = run_json(capsys, *ORDER, "--yes", "--json")
    moved = run_json(capsys, "orders", "move", "BTCDEMO", "--to", "81000", "--json")
    assert moved["outcome"] == "ok" and moved["client_id"].endswith("-sr2")
    book = run_json(capsys, "orders", "open", "--json")
    assert book["positions"][0]["stop"] == 81_000 and book["positions"][0]["protected"]
    target = next(o for o in book["orders"] if o["trigger"] == 90_000)
    assert target["client_id"] == placed["protective"][1]["client_id"]
    run_json(capsys, "orders", "cancel", target["client_id"], "--json")
    code, line = run_error(capsys, "orders", "cancel", "nope")
    assert code != 0 and "no open order 'nope'" in line
    closed = run_json(capsys, "orders", "close", "BTCDEMO", "--yes", "--json")
    assert closed["outcome"] == "ok"
    book = run_json(capsys, "orders", "open", "--json")
    assert book["positions"] == []
