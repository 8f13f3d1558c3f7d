"""`perptui paper ...` end to end on the demo market (frozen clock), JSON and one-line errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.domain.timeframes import parse_utc
from perptui.services.store import Store, paper_book
from tests.cli_helpers import run_json

BTC = "BTCDEMO/USDT:USDT"
ETH = "ETHDEMO/USDT:USDT"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T10:00")
    return path


def run_error(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """A failing run: argparse's errors exit through SystemExit, the command's return their code; either
    way nothing on stdout and one line, no traceback, on stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code != 0 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return code, lines[0]  # type: ignore[return-value]


def at(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", when)


def test_order_positions_fills_and_close(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01",
                    "--leverage", "10", "--json")  # fmt: skip
    (fill,) = data["fills"]
    mark = fill["mark"]
    assert data["order"]["status"] == "filled" and data["order"]["symbol"] == BTC
    assert fill["price"] == pytest.approx(mark * 1.0005, abs=0.1)  # 5 bp of slippage, on the 0.1 tick
    assert fill["price"] >= mark * 1.0005 - 1e-9  # rounded against the buyer
    assert fill["fee"] == pytest.approx(0.0004 * 0.01 * fill["price"], abs=1e-8)  # BTCDEMO's taker fee
    position = data["position"]
    assert (position["side"], position["qty"], position["leverage"], position["margin_mode"]) == (
        "long", 0.01, 10.0, "isolated",
    )  # fmt: skip

    positions = run_json(capsys, "paper", "positions", "--json")
    (row,) = positions["positions"]
    assert row["symbol"] == BTC and row["entry"] == fill["price"] and row["mark"] == pytest.approx(mark)
    assert row["liq_price"] < row["entry"] and 0 < row["margin_ratio"] < 1
    assert positions["circuit_breaker"]["tripped"] is False

    account = run_json(capsys, "account", "--json")
    assert account["used_margin"] == pytest.approx(0.01 * fill["price"] / 10)
    assert account["maintenance_margin"] > 0 and account["leverage"] > 0
    assert account["wallet_balance"] == pytest.approx(5_000 - fill["fee"])

    data = run_json(capsys, "paper", "close", "BTC", "--qty", "0.004", "--json")
    assert data["fills"][0]["reason"] == "close" and data["fills"][0]["side"] == "short"
    assert data["position"]["qty"] == pytest.approx(0.006)
    fills = run_json(capsys, "paper", "fills", "--json")["fills"]
    assert [(f["reason"], f["qty"]) for f in fills] == [("order", 0.01), ("close", 0.004)]
    assert main(["paper", "close", "BTCDEMO"]) == 0
    assert "position closed" in capsys.readouterr().out
    assert run_json(capsys, "paper", "positions", "--json")["positions"] == []


def test_limit_orders_attached_stops_and_cancel(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "paper", "order", "--symbol", "ETH", "--side", "short", "--qty", "0.1",
                    "--price", "9000", "--leverage", "5", "--json")  # fmt: skip
    order_id = data["order"]["id"]
    assert data["order"]["status"] == "open" and data["fills"] == []
    mark = run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "short", "--qty", "0.001",
                    "--leverage", "3", "--json")["fills"][0]["mark"]  # fmt: skip
    stop = round(mark * 1.1)
    argv = ["paper", "order", "--symbol", "BTC", "--side", "short", "--qty", "0.001", "--stop", str(stop)]
    assert main([*argv, "--yes"]) == 0
    capsys.readouterr()
    listed = run_json(capsys, "paper", "orders", "--json")
    assert [o["id"] for o in listed["orders"]] == [order_id]
    assert listed["attached"] == [
        {"symbol": BTC, "kind": "stop", "side": "long", "qty": 0.002, "price": stop}
    ]
    assert run_json(capsys, "paper", "cancel", str(order_id), "--json")["status"] == "cancelled"
    assert run_json(capsys, "paper", "orders", "--json")["orders"] == []
    history = run_json(capsys, "paper", "orders", "--all", "--json")["orders"]
    assert [o["status"] for o in history] == ["cancelled", "filled", "filled"]


def test_funding_due_while_away_is_settled_on_the_next_run(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--json")
    at(monkeypatch, "2025-06-01T17:00")
    assert main(["paper", "positions"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{BTC} funding ")  # the catch-up's event, before the table
    with Store.open(db) as store, store.reading() as conn:
        (payment,) = paper_book.load_funding_payments(conn, "paper")
    assert payment.time == parse_utc("2025-06-01T16:00") and payment.symbol == BTC
    assert payment.amount == pytest.approx(-0.01 * payment.mark * payment.rate, abs=1e-8)
    assert main(["paper", "positions"]) == 0  # a second run settles nothing again
    assert "funding" not in capsys.readouterr().out


def test_offline_uses_cached_tickers_and_says_how_old(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line = run_error(capsys, "paper", "positions", "--offline")
    assert code == 1 and "the cache holds no markets for demo" in line
    live = run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--json")
    at(monkeypatch, "2025-06-01T10:03")
    argv = ["paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--offline", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["fills"][0]["mark"] == live["fills"][0]["mark"]  # the cached ticker's
    assert captured.err.strip() == "offline: marks from the cache: BTCDEMO/USDT:USDT ticker 3.0 min old"
    code, line = run_error(capsys, "paper", "order", "--symbol", "SOL", "--side", "long", "--qty", "1",
                           "--offline")  # fmt: skip
    assert code == 2 and "no mark of SOLDEMO/USDT:USDT is known in the cache (drop --offline)" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["order", "--symbol", "BTC", "--side", "long", "--qty", "0"],
            "argument --qty: '0' must be above 0",
        ),
        (["order", "--symbol", "BTC", "--side", "long", "--qty", "abc"], "--qty: 'abc' is not a number"),
        (["order", "--symbol", "BTC", "--side", "up", "--qty", "1"], "argument --side: invalid choice"),
        (
            ["order", "--symbol", "BTC", "--side", "long", "--qty", "1", "--price", "-5"],
            "argument --price: '-5' must be above 0",
        ),
        (["order", "--symbol", "BTC", "--side", "long", "--qty", "1", "--leverage", "0.5"], "leverage"),
        (["order", "--symbol", "NOPE", "--side", "long", "--qty", "1"], "unknown symbol 'NOPE'"),
        (
            ["order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--stop", "999999"],
            "must be below",
        ),
        (["order", "--symbol", "BTC", "--side", "long", "--qty", "50"], "not enough free margin"),
        (["close", "BTC"], "there is no open paper position in BTCDEMO/USDT:USDT"),
        (["cancel", "7"], "there is no paper order #7"),
        (["reset-breaker"], "add --yes to confirm"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    code, line = run_error(capsys, "paper", *argv)
    assert code == 2 and message in line, line
    with Store.open(db) as store, store.reading() as conn:
        assert paper_book.load_fills(conn, "paper") == [] and paper_book.load_orders(conn, "paper") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--symbol", "BTC", "--qty", "0.0001"],
            "quantity 0.0001 is below BTCDEMO/USDT:USDT's minimum quantity 0.001: the smallest valid",
        ),
        (["--symbol", "BTC", "--qty", "1e-300"], "quantity 1e-300 is below BTCDEMO/USDT:USDT's minimum"),
        (
            ["--symbol", "BTC", "--qty", "0.0015"],
            "quantity 0.0015 is not a multiple of BTCDEMO/USDT:USDT's step 0.001: the nearest valid "
            "quantity is 0.001",
        ),
        (["--symbol", "TRX", "--qty", "0.5"], "quantity 0.5 is below TRXDEMO/USDT:USDT's minimum quantity 1"),
        (["--symbol", "TRX", "--qty", "10"], "below TRXDEMO/USDT:USDT's minimum order of 5 USDT"),
        (["--symbol", "BTC", "--qty", "0.01", "--price", "0.01"], "the lowest valid price is 0.1"),
        (
            ["--symbol", "BTC", "--qty", "0.01", "--leverage", "2.7"],
            "leverage 2.7x is not accepted: BTCDEMO/USDT:USDT takes leverage in whole numbers; the nearest "
            "valid leverage is 3x",
        ),
        (
            ["--symbol", "TRX", "--qty", "100", "--tp", "0.062637215"],
            "take-profit 0.062637215 is not a multiple of TRXDEMO/USDT:USDT's tick 0.00001",
        ),
    ],
)
def test_orders_the_market_would_refuse_are_one_line_exit_2_and_leave_nothing(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    code, line = run_error(capsys, "paper", "order", "--side", "long", "--yes", *argv)
    assert code == 2 and message in line, line
    with Store.open(db) as store, store.reading() as conn:
        assert paper_book.load_fills(conn, "paper") == [] and paper_book.load_orders(conn, "paper") == []
        assert paper_book.load_positions(conn, "paper") == []


def test_the_circuit_breaker_refuses_new_orders_until_reset(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_RISK__DAILY_LOSS_LIMIT_PCT", "0.01")  # 0.01%: the first fees hit it
    run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--json")
    code, line = run_error(capsys, "paper", "order", "--symbol", "ETH", "--side", "long", "--qty", "0.1")
    assert code == 2 and line.startswith("perptui: error: circuit breaker tripped at 2025-06-01 10:00 UTC")
    assert "loss today" in line and "until 2025-06-02 00:00 UTC or a reset; closing is allowed" in line
    tripped = run_json(capsys, "paper", "positions", "--json")["circuit_breaker"]
    assert tripped["tripped"] is True and tripped["until"] == parse_utc("2025-06-02")
    assert run_json(capsys, "paper", "close", "BTC", "--qty", "0.005", "--json")["fills"]  # reducing: allowed
    code, _ = run_error(capsys, "paper", "reset-breaker")
    assert code == 2
    data = run_json(capsys, "paper", "reset-breaker", "--yes", "--json")
    assert data["was_tripped"] is True and data["tripped"] is False and data["reset_at"] is not None
    assert run_json(capsys, "paper", "order", "--symbol", "ETH", "--side", "long", "--qty", "0.1", "--json")
    assert main(["paper", "reset-breaker", "--yes"]) == 0
    assert "not tripped: nothing to reset" in capsys.readouterr().out
    with Store.open(db) as store, store.reading() as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM risk_events ORDER BY id")]
    assert kinds == ["breaker_trip", "breaker_reset"]


def test_each_exchange_has_its_own_paper_account_named_by_every_command(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    """A demo position is on the demo's paper account only: with --exchange binanceusdm the paper, account
    and risk commands read (and name) that exchange's own account."""
    run_json(capsys, "paper", "order", "--symbol", "SOL", "--side", "long", "--qty", "1", "--json")
    with Store.open(db) as store:
        demo = store.load_markets("demo")
        store.upsert_markets("binanceusdm", [dataclasses.replace(m, exchange="binanceusdm") for m in demo], 0)
    demo_positions = run_json(capsys, "paper", "positions", "--json")
    assert (demo_positions["account"], demo_positions["exchange"]) == ("paper", "demo")
    assert [p["symbol"] for p in demo_positions["positions"]] == ["SOLDEMO/USDT:USDT"]
    other = ["--exchange", "binanceusdm", "--offline"]
    positions = run_json(capsys, "paper", "positions", *other, "--json")
    assert (positions["account"], positions["exchange"], positions["positions"]) == (
        "paper:binanceusdm", "binanceusdm", [],
    )  # fmt: skip
    account = run_json(capsys, "account", "--exchange", "binanceusdm", "--json")
    assert (account["account"], account["exchange"], account["equity"]) == (
        "paper:binanceusdm",
        "binanceusdm",
        5_000,
    )
    risk = run_json(capsys, "risk", *other, "--json")
    assert (risk["account"], risk["exchange"], risk["positions"]) == ("paper:binanceusdm", "binanceusdm", [])
    assert main(["paper", "positions", *other]) == 0
    assert "no open positions on the paper · binanceusdm account" in capsys.readouterr().out
    assert main(["account", "--exchange", "binanceusdm"]) == 0
    assert "paper account on binanceusdm" in capsys.readouterr().out
