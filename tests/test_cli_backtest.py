"""`perptui backtest` end to end: the demo market (frozen clock) and real Binance data imported into the
cache (offline), the JSON keys, the hand-checkable carry, ledgers, Monte Carlo seeds, sweeps and
walk-forward, and one-line errors for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from perptui.domain.backtest.metrics import METRIC_KEYS
from perptui.services.importers import import_funding, import_ohlcv, import_tiers
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json

SPAN = ("--from", "2025-01-01", "--to", "2025-06-01")


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def test_by_default_a_run_reaches_back_to_2021_so_the_crashes_are_in(
    demo_db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Today four years back would start after FTX; the default starts at 2021-01-01, before the demo's
    # history (from 2022-01-01), so the run covers all of it.
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2026-12-03T00:00")
    data = run_json(
        capsys, "backtest", "--strategy", "carry", "--symbols", "BTC", "--timeframe", "1d", "--json"
    )
    assert data["equity_curve"][0][0] == "2022-01-01T00:00:00Z"
    assert data["equity_curve"][-1][0] == "2026-12-03T00:00:00Z"
    notes = {row["name"]: row["note"] for row in data["stress"]}
    assert notes == {"may_2021": "outside the run", "luna_2022": None, "ftx_2022": None}


def test_hybrid_json_has_the_issue_keys_and_reconciles(demo_db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(
        capsys, "backtest", "--strategy", "hybrid", "--symbols", "BTC", "ETH", "SOL", *SPAN, "--json"
    )
    assert {"metrics", "layers", "stress", "equity_curve"} <= set(data)
    assert tuple(data["metrics"]) == METRIC_KEYS
    assert set(data["layers"]) == {"carry", "trend"} or len(data["layers"]) == 2
    for layer in data["layers"].values():
        assert tuple(layer) == METRIC_KEYS
    assert [row["name"] for row in data["stress"]] == ["may_2021", "luna_2022", "ftx_2022"]
    curve = data["equity_curve"]
    assert curve[0] == ["2025-01-01T00:00:00Z", 5000.0] and curve[-1][0] == "2025-06-01T00:00:00Z"
    m = data["metrics"]
    assert curve[-1][1] == pytest.approx(5000 + m["price_pnl"] + m["funding_pnl"] - m["fees"], abs=1e-6)
    assert data["reconciliation_error"] < 1e-6
    assert "monte_carlo" not in data


def test_a_run_is_the_same_twice_and_monte_carlo_follows_its_seed(
    demo_db: Path, capsys: pytest.CaptureFixture
) -> None:
    args = (
        "backtest",
        "--strategy",
        "trend",
        "--symbols",
        "BTC",
        "ETH",
        *SPAN,
        "--json",
        "--monte-carlo",
        "300",
    )
    first = run_json(capsys, *args, "--seed", "3")
    again = run_json(capsys, *args, "--seed", "3")
    other = run_json(capsys, *args, "--seed", "4")
    assert first["equity_curve"] == again["equity_curve"]
    assert first["monte_carlo"] == again["monte_carlo"]
    assert first["monte_carlo"]["final_equity"] != other["monte_carlo"]["final_equity"]
    assert first["monte_carlo"]["paths"] == 300


def test_ledger_files_are_written(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "ledgers"
    data = run_json(capsys, "backtest", "--strategy", "trend", "--symbols", "BTC", *SPAN, "--json",
                    "--ledger", str(folder))  # fmt: skip
    with (folder / "equity.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["time", "equity"] and len(rows) == len(data["equity_curve"]) + 1
    assert float(rows[-1][1]) == data["equity_curve"][-1][1]
    with (folder / "fills.csv").open() as fh:
        assert len(list(csv.reader(fh))) == data["trades"] + 1


def test_a_sweep_runs_every_set_across_processes(demo_db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "backtest", "--strategy", "trend", "--symbols", "BTC", "ETH", *SPAN, "--json",
                    "--grid", "ma_slow=20,40", "--grid", "leverage_cap=1,2", "--workers", "2")  # fmt: skip
    labels = [row["params"] for row in data["sweep"]]
    assert labels == [
        {"ma_slow": "20", "leverage_cap": "1"}, {"ma_slow": "20", "leverage_cap": "2"},
        {"ma_slow": "40", "leverage_cap": "1"}, {"ma_slow": "40", "leverage_cap": "2"},
    ]  # fmt: skip
    # the set equal to the main run gives the main run's numbers
    single = run_json(capsys, "backtest", "--strategy", "trend", "--symbols", "BTC", "ETH", *SPAN, "--json",
                      "--param", "ma_slow=40", "--param", "leverage_cap=2")  # fmt: skip
    assert data["sweep"][3]["metrics"] == single["metrics"]


def test_walk_forward_reports_in_and_out_of_sample(demo_db: Path, capsys: pytest.CaptureFixture) -> None:
    data = run_json(capsys, "backtest", "--strategy", "trend", "--symbols", "BTC", "ETH", "--from",
                    "2024-01-01", "--to", "2025-06-01", "--json", "--walk-forward", "--grid", "ma_slow=20,40",
                    "--in-sample-days", "180", "--out-of-sample-days", "90", "--workers", "1")  # fmt: skip
    wf = data["walk_forward"]
    assert len(wf["folds"]) >= 3
    assert {"in_sample_sharpe", "out_of_sample_sharpe", "overfit_warning", "out_of_sample"} <= set(wf)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--param", "top_m=2"), "top_m"),
        (("--param", "top_n=two"), "top_n"),
        (("--param", "rebalance"), "KEY=VALUE"),
        (("--from", "2025-05-01", "--to", "2025-04-01"), "--from"),
        (("--from", "yesterday"), "date"),
        (("--stress", "2022-01-01"), "stress window"),
        (("--walk-forward",), "--grid"),
        (("--capital", "-5"), "argument --capital: '-5' must be above 0"),
        (("--capital", "1e12"), "above the largest accepted amount 1,000,000,000 USDT"),
        (("--grid", "top_n"), "grid"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    demo_db: Path, capsys: pytest.CaptureFixture, args: tuple[str, ...], needle: str
) -> None:
    code, line = run_error(capsys, "backtest", "--strategy", "carry", "--symbols", "BTC", *SPAN, *args)
    assert code == 2 and needle in line


def test_an_unknown_symbol_is_named_with_suggestions(demo_db: Path, capsys: pytest.CaptureFixture) -> None:
    code, line = run_error(capsys, "backtest", "--strategy", "trend", "--symbols", "NOPECOIN", *SPAN)
    assert code == 2 and "NOPECOIN" in line


# --- real data, offline ------------------------------------------------------------------------------


@pytest.fixture
def binance_db(binance_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "real.db"
    with Store.open(path) as store:
        for base in ("BTC", "ETH"):
            name = f"{base}USDT.csv"
            import_funding(store, "binanceusdm", binance_data / "funding" / name)
            import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_8h_perp" / name, "8h")
            import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_8h_spot" / name, "8h", spot=True)
        import_tiers(store, "binanceusdm", binance_data / "leverage_tiers_2024-10-24.json")
    monkeypatch.setenv("PERPTUI_DB", str(path))
    return path


REAL = ("--exchange", "binanceusdm", "--offline")


def test_the_hand_checkable_carry_holds_one_position_for_the_whole_run(
    binance_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "carry"
    data = run_json(
        capsys, "backtest", "--strategy", "carry", "--param", "rebalance=never", "--param", "top_n=1",
        "--symbols", "BTC/USDT:USDT", "--from", "2021-01-01", "--to", "2025-01-01", *REAL, "--json",
        "--ledger", str(folder),
    )  # fmt: skip
    with (folder / "fills.csv").open() as fh:
        fills = list(csv.DictReader(fh))
    assert [(f["leg"], f["side"]) for f in fills] == [("perp", "sell"), ("spot", "buy")]
    assert fills[0]["qty"] == fills[1]["qty"] and fills[0]["time"] == fills[1]["time"]
    assert data["liquidations"] == 0
    with (folder / "funding.csv").open() as fh:
        funding = list(csv.DictReader(fh))
    # one print every 8h from the entry to the end, each paid by the same short quantity
    assert {f["qty"] for f in funding} == {"-" + fills[0]["qty"]}
    assert len(funding) >= 3 * 365 * 3
    total = sum(float(f["amount"]) for f in funding)
    assert total == pytest.approx(data["metrics"]["funding_pnl"], rel=1e-12)


def test_all_three_strategies_run_on_real_cached_data(
    binance_db: Path, capsys: pytest.CaptureFixture
) -> None:
    for strategy in ("carry", "trend", "hybrid"):
        data = run_json(capsys, "backtest", "--strategy", strategy, "--from", "2021-01-01", "--to",
                        "2023-01-01", *REAL, "--json")  # fmt: skip
        assert set(data["symbols"]) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
        assert data["trades"] > 0 and data["reconciliation_error"] < 1e-6
        covered = {row["name"]: row["note"] for row in data["stress"]}
        assert covered["luna_2022"] is None and covered["ftx_2022"] is None  # inside the run
        assert json.dumps(data)  # plain JSON, no NaN


def test_scenarios_replay_the_worst_weeks_on_the_paper_positions(
    demo_db: Path, capsys: pytest.CaptureFixture
) -> None:
    order = ("--symbol", "BTC", "--side", "long", "--qty", "0.05")
    run_json(capsys, "paper", "order", *order, "--yes", "--json")
    data = run_json(capsys, "backtest", "--strategy", "trend", "--symbols", "BTC", "ETH", "--from",
                    "2022-01-01", "--to", "2025-06-01", "--json", "--scenarios")  # fmt: skip
    sc = data["scenarios"]
    assert sc["book_source"] == "the paper account's positions"
    assert list(sc["book"]) == ["BTCDEMO/USDT:USDT"] and sc["book"]["BTCDEMO/USDT:USDT"] > 0
    named = {w["name"]: w for w in sc["windows"]}
    assert named["may_2021"]["note"] == "outside the history"  # the demo market starts in 2022
    assert named["luna_2022"]["pnl"] is not None
    worst = [w for w in sc["windows"] if w["name"].startswith("worst")]
    assert len(worst) == 3 and worst[0]["pnl"] <= worst[1]["pnl"] <= worst[2]["pnl"] < 0
