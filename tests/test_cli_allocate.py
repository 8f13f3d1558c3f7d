"""`perptui allocate` end to end on the demo market (frozen clock): JSON keys, the split, the capital's
source, trades from the paper positions, offline, the readable tables and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.domain.plan.plan import PLAN_KEYS
from tests.cli_helpers import run_json
from tests.test_paper_cli import run_error

LEG_KEYS = {"symbol", "leg", "side", "qty", "notional", "weight"}


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def test_json_plan_on_the_demo_market(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "allocate", "--capital", "10000", "--json")
    assert tuple(data) == PLAN_KEYS
    assert data["neutral"] and data["directional"]
    for leg in data["neutral"] + data["directional"]:
        assert set(leg) >= LEG_KEYS and leg["qty"] > 0
    assert {x["leg"] for x in data["neutral"]} == {"spot", "perp"}
    assert set(data["regime"]) >= {"state", "scale", "realised_vol", "median_vol", "reason"}
    assert data["config"]["capital"] == 10_000 and data["config"]["neutral_pct"] == 70
    margin = sum(x["margin"] for x in data["neutral"])
    assert 0 < margin <= 7_000 + 1e-6
    # no paper positions: the trades only open, one per (symbol, leg) of the target
    legs = {(x["symbol"], x["leg"]) for x in data["neutral"] + data["directional"]}
    trades = [(t["symbol"], t["leg"]) for t in data["trades"]]
    assert not any(t["reduce_only"] for t in data["trades"])
    assert len(set(trades)) == len(trades) and set(trades) <= legs


def test_all_neutral_gives_an_empty_directional_layer(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "allocate", "--capital", "10000", "--neutral-pct", "100", "--json")
    assert data["directional"] == [] and data["neutral"]
    assert data["optimizer"] is None and data["frontier"] == []


def test_capital_from_the_paper_account_and_trades_from_its_positions(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    main(["allocate", "--json"])
    captured = capsys.readouterr()
    assert "no paper account yet, paper.starting_capital = 5,000.00" in captured.err
    run_json(
        capsys,
        "paper",
        "order",
        "--symbol",
        "BTC",
        "--side",
        "long",
        "--qty",
        "0.01",
        "--leverage",
        "5",
        "--json",
    )
    main(["allocate", "--json", "--neutral-pct", "100"])
    captured = capsys.readouterr()
    assert "capital: the paper · demo account's equity" in captured.err
    data = json.loads(captured.out)
    closing = [t for t in data["trades"] if t["symbol"] == "BTCDEMO/USDT:USDT"]
    assert closing == [
        {"symbol": "BTCDEMO/USDT:USDT", "leg": "perp", "side": "short", "qty": 0.01,
         "notional": closing[0]["notional"], "reduce_only": True}
    ]  # fmt: skip


def test_offline_after_a_live_run_uses_the_cache(db: Path, capsys: pytest.CaptureFixture) -> None:
    live = run_json(capsys, "allocate", "--capital", "8000", "--json")
    main(["allocate", "--capital", "8000", "--json", "--offline"])
    captured = capsys.readouterr()
    assert "offline: from the cache" in captured.err
    cached = json.loads(captured.out)
    assert [x["symbol"] for x in cached["neutral"]] == [x["symbol"] for x in live["neutral"]]
    assert cached["directional"]


def test_readable_tables(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["allocate", "--capital", "10000"]) == 0
    text = capsys.readouterr().out
    assert "hybrid plan on demo: capital 10,000.00, neutral 70% / directional 30%" in text
    assert "neutral funding base" in text and "directional layer" in text
    assert "expected return" in text and "regime:" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--capital", "abc"], "argument --capital: 'abc' is not a number"),
        (["--capital", "-5"], "argument --capital: '-5' must be above 0"),
        (["--capital", "0"], "argument --capital: '0' must be above 0"),
        (
            ["--capital", "1e12"],
            "argument --capital: '1e12' is above the largest accepted amount 1,000,000,000 USDT",
        ),
        (
            ["--neutral-pct", "120"],
            "argument --neutral-pct: '120' is above the largest accepted percent 100%",
        ),
    ],
)
def test_bad_flags_are_one_line_exit_2(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], words: str
) -> None:
    code, line = run_error(capsys, "allocate", *argv)
    assert code == 2 and words in line
