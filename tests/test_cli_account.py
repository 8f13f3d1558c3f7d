"""`perptui account`, `account deposit` and `account withdraw` on the paper account."""

from __future__ import annotations

from pathlib import Path

import pytest

from perptui.cli import main
from perptui.domain.account import SUMMARY_KEYS
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    return path


def flows(db: Path) -> list[tuple[str, float]]:
    with Store.open(db) as store:
        return [(f.kind, f.amount) for f in store.load_cash_flows("paper")]


def test_account_json_keys(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "account", "--json")
    assert list(data) == [*SUMMARY_KEYS, "account", "currency", "as_of", "maintenance_margin", "exchange"]
    assert data["maintenance_margin"] == 0.0  # no positions
    assert data["equity"] == 5000.0 and data["risk_pct"] == 0.01 and data["risk_budget"] == 50.0
    assert (data["neutral_pct"], data["directional_pct"]) == (0.7, 0.3)
    assert (data["pnl_today"], data["pnl_week"], data["leverage"]) == (0.0, 0.0, 0.0)


def test_starting_capital_from_config(db: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("PERPTUI_PAPER__STARTING_CAPITAL", "2000")
    monkeypatch.setenv("PERPTUI_RISK__RISK_PCT", "2")
    data = run_json(capsys, "account", "--json")
    assert (data["equity"], data["risk_pct"], data["risk_budget"]) == (2000.0, 0.02, 40.0)


def test_deposit_and_withdraw(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["account", "deposit", "1,000.50"]) == 0
    said = capsys.readouterr().out
    assert said == "deposited 1,000.50 USDT; paper wallet balance on demo now 6,000.50 USDT\n"
    data = run_json(capsys, "account", "withdraw", "500", "--json")
    assert data["equity"] == 5500.5 and data["wallet_balance"] == 5500.5
    data = run_json(capsys, "account", "--json", "deposit", "99.5")  # --json before the action too
    assert data["equity"] == 5600.0
    assert flows(db) == [("opening", 5000.0), ("deposit", 1000.5), ("withdrawal", 500.0), ("deposit", 99.5)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["deposit", "-5"], "perptui account deposit: error: argument AMOUNT: '-5' must be above 0"),
        (["deposit", "0"], "'0' must be above 0"),
        (["deposit", "abc"], "'abc' is not a number (e.g. 250 or 1,000.50)"),
        (["withdraw", "1e15"], "'1e15' is above the largest accepted amount 1,000,000,000 USDT"),
        (["deposit", "0.000001"], "'0.000001' is below the smallest accepted amount 0.01 USDT"),
        (["deposit", "1,500"], "'1,500' is ambiguous"),
        (["deposit", "nan"], "is not a number"),
        (["withdraw", "5000.01"], "cannot withdraw 5,000.01 USDT: only 5,000.00 USDT is free"),
    ],
)
def test_bad_amounts_exit_2_and_record_nothing(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    run_json(capsys, "account", "--json")  # the account exists
    code, line = run_error(capsys, "account", *argv, "--json")
    assert code == 2 and message in line
    assert flows(db) == [("opening", 5000.0)]


def test_missing_amount_is_a_usage_error(db: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["account", "deposit"])
    assert info.value.code == 2
    assert "AMOUNT" in capsys.readouterr().err


def test_exchange_mode_refuses_deposits(db: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    for action in ("deposit", "withdraw"):
        code, line = run_error(capsys, "account", action, "100")
        assert code == 2
        assert line.endswith(
            "deposits and withdrawals are for the paper account; perptui never moves money on an exchange"
        )
    code, line = run_error(capsys, "account")
    assert code == 2 and "needs a real exchange" in line
    assert not db.exists() or flows(db) == []


def test_table_output(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["account", "deposit", "1235"]) == 0
    capsys.readouterr()
    assert main(["account"]) == 0
    text = capsys.readouterr().out
    for expected in ("paper account", "6,235.00", "1.00% = 62.35", "70.00% = 4,364.50", "30.00%", "0.00x"):
        assert expected in text
