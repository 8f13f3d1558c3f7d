"""`perptui paper carry open/close` and `paper spot` on the demo market: both legs or neither, one-line
refusals with exit 2, and the pair in `paper positions --json` and `risk --json`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_json
from tests.test_paper_cli import db, run_error  # noqa: F401  (the fixture)

BTC = "BTCDEMO/USDT:USDT"


def test_carry_open_shows_one_pair_and_close_takes_both_legs(db: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    opened = run_json(capsys, "paper", "carry", "open", "--symbol", "BTCDEMO", "--notional", "1000", "--json")
    pair = opened["pair"]
    assert pair["pair"] is True and pair["perp_leg"]["side"] == "short"
    assert pair["perp_leg"]["qty"] == pair["spot_leg"]["qty"] == pair["qty"] > 0
    assert pair["qty"] * 45_000 < 1_000 * 1.1  # the notional at the spot price, rounded down
    held = run_json(capsys, "paper", "positions", "--json")
    assert [p["symbol"] for p in held["pairs"]] == [BTC] and held["spot"][0]["qty"] == pair["qty"]
    risk = run_json(capsys, "risk", "--json")
    (row,) = risk["positions"]
    assert row["pair"] is True and row["net_delta"] == 0 and row["perp_leg"]["liq_distance_pct"] > 0.5
    assert risk["gross_exposure"] < 0.05 * row["perp_leg"]["notional"]
    code, message = run_error(capsys, "paper", "close", "BTCDEMO")
    assert code == 2 and "perp leg of a carry pair" in message
    closed = run_json(capsys, "paper", "carry", "close", "BTCDEMO", "--json")
    assert closed["pair"] is None
    after = run_json(capsys, "paper", "positions", "--json")
    assert after["pairs"] == [] and after["spot"] == [] and after["positions"] == []


def test_refused_pairs_and_spot_sales_are_one_line_and_record_nothing(
    db: Path,  # noqa: F811
    capsys: pytest.CaptureFixture,
) -> None:
    code, message = run_error(capsys, "paper", "carry", "open", "--symbol", "BTCDEMO", "--qty", "0.0015")
    assert code == 2 and "step" in message and "\n" not in message.strip()
    code, message = run_error(capsys, "paper", "spot", "--symbol", "ETHDEMO", "--side", "sell", "--qty", "1")
    assert code == 2 and "margin spot is not modelled" in message
    code, _ = run_error(
        capsys, "paper", "carry", "open", "--symbol", "BTCDEMO", "--qty", "1", "--notional", "9"
    )
    assert code == 2
    held = run_json(capsys, "paper", "positions", "--json")
    assert held["pairs"] == [] and held["spot"] == [] and held["positions"] == []
    bought = run_json(
        capsys, "paper", "spot", "--symbol", "ETHDEMO", "--side", "buy", "--qty", "0.1", "--json"
    )
    assert bought["fill"]["fee"] > 0
    # spot held alone is watched for its price on the next run
    assert run_json(capsys, "paper", "positions", "--json")["spot"][0]["qty"] == 0.1
