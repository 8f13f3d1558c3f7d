"""`perptui risk` end to end on the demo market (frozen clock): JSON keys and figures, the readable
summary, alerts logged once across runs, offline from the cache, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.services.risk.report import POSITION_KEYS, REPORT_KEYS
from perptui.services.store import Store, risk_events
from tests.cli_helpers import run_json
from tests.test_paper_cli import run_error

BTC = "BTCDEMO/USDT:USDT"
ETH = "ETHDEMO/USDT:USDT"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T10:00")
    return path


def order(capsys: pytest.CaptureFixture, symbol: str, side: str, qty: str, leverage: str) -> None:
    argv = ["--symbol", symbol, "--side", side, "--qty", qty, "--leverage", leverage]
    run_json(capsys, "paper", "order", *argv, "--json")


def alert_rows(db: Path) -> list[tuple[str, str | None, str]]:
    with Store.open(db) as store, store.reading() as conn:
        return [(e.kind, e.symbol, e.severity) for e in risk_events.load_events(conn, "paper")]


def test_json_matches_the_paper_positions(db: Path, capsys: pytest.CaptureFixture) -> None:
    order(capsys, "BTC", "long", "0.05", "20")
    order(capsys, "ETH", "short", "1", "5")
    data = run_json(capsys, "risk", "--json")
    assert tuple(data) == REPORT_KEYS
    assert [p["symbol"] for p in data["positions"]] == [BTC, ETH]
    assert all(tuple(p) == POSITION_KEYS for p in data["positions"])
    paper = {p["symbol"]: p for p in run_json(capsys, "paper", "positions", "--json")["positions"]}
    for p in data["positions"]:
        same = paper[p["symbol"]]
        assert (p["qty"], p["entry"], p["liq_price"], p["margin_ratio"]) == (
            same["qty"], same["entry"], same["liq_price"], same["margin_ratio"],
        )  # fmt: skip
        assert p["notional"] == pytest.approx(p["qty"] * p["mark"])
        assert p["liq_distance_sigma"] > 0 and p["next_funding_usd"] is not None
    account = run_json(capsys, "account", "--json")
    assert data["equity"] == pytest.approx(account["equity"])
    assert data["leverage"] == pytest.approx(data["gross_exposure"] / data["equity"])
    assert 0 < data["var_95_1d"] <= data["cvar_95_1d"] <= data["cvar_99_1d"]
    assert data["var_95_1d"] <= data["var_99_1d"] <= data["cvar_99_1d"]
    # The 20x BTC long is within 10% of its liquidation price: a critical alert, logged once; neither
    # position has a stop: a warning each.
    raised = [(a["kind"], a["symbol"], a["severity"]) for a in data["alerts"]]
    expected = [("liq_distance", BTC, "critical"), ("no_stop", BTC, "warning"), ("no_stop", ETH, "warning")]
    assert raised == expected
    assert alert_rows(db) == expected
    run_json(capsys, "risk", "--json")
    assert alert_rows(db) == expected  # the second run raises nothing new


def test_the_summary_reads_as_a_table_with_the_limits(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["risk"]) == 0
    text = capsys.readouterr().out
    assert "no open positions" in text and "no alerts" in text and "circuit breaker: armed" in text
    order(capsys, "BTC", "long", "0.05", "20")
    assert main(["risk"]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert BTC in text and "σ" in text
    assert "1-day VaR 95%: historical" in text and "parametric" in text
    assert "limit liq_distance BTCDEMO/USDT:USDT: [####################]" in text and "BREACHED" in text
    assert "! BTCDEMO/USDT:USDT liquidation distance" in text
    assert "GARCH" in text


def test_offline_uses_the_cache(db: Path, capsys: pytest.CaptureFixture) -> None:
    order(capsys, "BTC", "long", "0.01", "5")
    online = run_json(capsys, "risk", "--json")
    code = main(["risk", "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 0 and "offline" in captured.err
    offline = json.loads(captured.out)
    assert offline["positions"][0]["mark"] == online["positions"][0]["mark"]
    assert offline["var_99_1d"] == online["var_99_1d"] and offline["equity"] == online["equity"]


def test_offline_without_a_cache_and_bad_input_are_one_line(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, line = run_error(capsys, "risk", "--offline", "--json")
    assert code != 0 and "the cache holds no markets for demo" in line
    code, line = run_error(capsys, "risk", "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in line
    code, line = run_error(capsys, "risk", "--json", "extra")
    assert code == 2
