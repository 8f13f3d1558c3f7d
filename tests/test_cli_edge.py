"""Every flag is read into a checked value before a command opens the cache (issue 19): malformed input is
one line naming the flag, what was given and what is accepted, exit 2, and the database is never
created or changed."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.cli.cmd_backtest import check_work_flags
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import timeframe_ms
from perptui.presentation.parse import read_number
from tests.cli_helpers import run_error, run_json

SIZE = ["size", "--symbol", "BTC", "--side", "long", "--stop-pct", "2", "--equity", "10000"]
BACKTEST = [
    "backtest",
    "--strategy",
    "carry",
    "--symbols",
    "BTC",
    "--from",
    "2024-01-01",
    "--to",
    "2024-03-01",
]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def _problem(tmp_path: Path, **fields: object) -> Path:
    good = {
        "assets": ["A", "B"],
        "mu": [0.1, 0.05],
        "cov": [[0.04, 0.0], [0.0, 0.02]],
        "objective": "max_utility",
    }
    path = tmp_path / f"problem{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps({**good, **fields}))
    return path


REFUSED = [
    # timeframes: Unicode digits (a traceback before), huge numbers (an OverflowError)
    ([*SIZE[:5], "--stop-atr", "2", "--atr-timeframe", "²h"], "bad timeframe '²h'"),
    ([*SIZE[:5], "--stop-atr", "2", "--atr-timeframe", "١h"], "bad timeframe"),
    ([*SIZE[:5], "--stop-atr", "2", "--atr-timeframe", "99999999999999999999999h"], "bad timeframe"),
    (["fetch", "--symbols", "BTC", "--since", "2025-01-01", "--timeframe", "²h"], "bad timeframe"),
    (["fetch", "--symbols", "BTC", "--since", "2025-01-01", "--timeframe", "9999w"], "at most a year"),
    # numbers: Unicode digits were read as 12
    ([*SIZE, "--entry", "١٢"], "'١٢' is not a number"),
    ([*SIZE, "--kelly", "55,1e308"], "above the largest accepted payoff ratio 1,000"),
    # ids beyond SQLite's integers (an OverflowError before), limits beyond it ("datatype mismatch")
    (
        ["paper", "cancel", "99999999999999999999999"],
        "ids are whole numbers from 1 to 9,223,372,036,854,775,807",
    ),
    (["paper", "cancel", "1e308"], "'1e308' is not an id"),
    (["paper", "fills", "--limit", "99999999999999999999999"], "above the largest accepted count 1,000,000"),
    # empty values (an unset shell variable) were read as every market, the current folder, the default
    (["scan", "--symbols", ""], "'' names no market"),
    (["fetch", "--symbols", "", "--since", "2025-01-01"], "names no market"),
    (["markets", "--symbols", " "], "names no market"),
    (["overview", "--symbols", ""], "names no market"),
    ([*BACKTEST, "--ledger", ""], "--ledger is empty"),
    (["backtest", "--strategy", "carry", "--from", ""], "--from is empty"),
    (["markets", "--exchange", ""], "is empty: give a ccxt exchange id"),
    (["markets", "--db", ""], "--db is empty"),
    # malformed symbols were resolved to BTCDEMO
    (
        ["size", "--symbol", "BTC/USDT:USDT:USDT", "--side", "long", "--stop-pct", "2"],
        "is not a market's name",
    ),
    (["paper", "order", "--symbol", "BTC/", "--side", "long", "--qty", "0.01"], "is not a market's name"),
    (["paper", "close", "BTC//USDT"], "is not a market's name"),
    (["markets", "--symbols", "💩/USDT:USDT"], "is not a market's name"),
    (["markets", "--symbols", "A" * 5000], "5,000 characters long"),
    (["markets", "--exchange", "nosuch"], "unknown exchange 'nosuch'"),
    # dates out of range
    (["scan", "--asof", "0001-01-01"], "--asof 0001-01-01 is before 2009-01-03"),
    (["fetch", "--symbols", "BTC", "--since", "2025-01-01", "--until", "9999-12-31"], "is in the future"),
    ([*BACKTEST, "--stress", "0001-01-01:9999-12-31"], "is before 2009-01-03"),
    # --testnet on the demo market, which has none
    (["markets", "--testnet"], "--testnet needs an exchange that has a testnet"),
    (["paper", "--testnet", "positions"], "--testnet needs an exchange"),
    # work without bounds
    ([*BACKTEST, "--workers", "1000000"], "above the largest accepted number of workers 1,024"),
    ([*BACKTEST, "--monte-carlo", "10", "--seed=4294967296"], "above the largest accepted seed"),
    ([*BACKTEST, "--grid", "x=1,2", "--walk-forward", "--in-sample-days", "1e308"], "number of days 36,500"),
    (["overview", "--top", "1e308"], "above the largest accepted number of rows 10,000"),
    (["scan", "--top", "99999999999999999999999"], "above the largest accepted count 10,000"),
    (["scan", "--min-volume", "1e308"], "above the largest accepted number"),
    (["scan", "--min-apr", "1e308"], "above the largest accepted number 10,000%"),
    (["scan", "--sort", ""], "--sort '' is not accepted"),
    # backtest settings beyond the [plan] limits, and grid values, refused before the history loads
    (
        [*BACKTEST, "--param", "leverage_cap=1e308"],
        "leverage_cap=1e308 is not accepted: use a number above 0 and at most 20",
    ),
    ([*BACKTEST, "--param", "top_n=١"], "top_n=١ is not accepted"),
    ([*BACKTEST, "--grid", "leverage_cap=1e308,2"], "leverage_cap=1e308 is not accepted"),
    # size's fee and slippage checked before any market data is read
    ([*SIZE, "--fee", "1e308"], "fee: must be a fraction from 0 to under 0.01"),
    ([*SIZE, "--slippage-bps", "1e308"], "slippage: must be from 0 to under 1000 bps"),
    # argparse stores [] for a value of "--" without calling the flag's type
    ([*SIZE, "--entry=--"], "argument --entry: expected a value, not '--'"),
    (["paper", "stop", "BTC", "--trail", "1e308atr"], "at most 1000 ATRs"),
]


@pytest.mark.parametrize(
    ("argv", "says"), REFUSED, ids=lambda v: " ".join(v)[:60] if isinstance(v, list) else ""
)
def test_a_malformed_flag_is_refused_in_one_line_before_the_cache_is_opened(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], says: str
) -> None:
    code, line = run_error(capsys, *argv)
    assert code == 2, line
    assert says in line
    assert not db.exists()  # refused before the database was even created


def test_optimize_refuses_nesting_and_figures_the_solver_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # a RecursionError traceback before
    for path, says in [
        (deep, "nests lists or objects 100,000 deep"),
        (
            _problem(tmp_path, mu=[1e308, 0.05]),
            "mu[0] is 1e+308: accepted are 0 and numbers from 1e-12 to 100",
        ),
        (_problem(tmp_path, risk_aversion=1e-308), "risk_aversion is 1e-308"),
        (_problem(tmp_path, mu=[10**400, 0.05]), "mu[0] is 100000000000...: accepted are numbers"),
        (_problem(tmp_path, bounds=[-1e308, 1e308]), "bounds[0] is -1e+308"),
        (_problem(tmp_path, assets=["A" * 1000, "B"]), "at most 64 characters"),
    ]:
        code, line = run_error(capsys, "optimize", "--input", str(path))
        assert code == 2 and says in line, line


def test_an_order_id_at_sqlites_limit_is_looked_up_not_a_traceback(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    code, line = run_error(capsys, "paper", "cancel", "9223372036854775807")
    assert code == 2 and "there is no paper order #9223372036854775807" in line


def test_allocate_offline_on_an_empty_cache_is_an_error_like_size_scan_and_risk(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    code, line = run_error(capsys, "allocate", "--offline")
    assert code == 1 and "the cache holds no markets for demo" in line


def test_fetch_refuses_a_timeframe_the_source_lacks_before_storing_any_funding(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    code, line = run_error(capsys, "fetch", "--symbols", "BTC", "--since", "2025-05-01", "--timeframe", "7m")
    assert code == 2 and "--timeframe 7m: the demo market has no 7m bars" in line
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM funding").fetchone() == (0,)
        assert con.execute("SELECT COUNT(*) FROM ohlcv").fetchone() == (0,)


def _backtest_args(*extra: str) -> argparse.Namespace:
    from perptui.cli.parser import build_parser

    return build_parser().parse_args([*BACKTEST, *extra])


def test_a_grid_above_the_limit_says_the_limit_and_how_to_raise_it() -> None:
    hundred = ",".join(str(i) for i in range(1, 101))
    args = _backtest_args("--grid", f"top_n={hundred}", "--grid", f"ma_fast={hundred}")
    with pytest.raises(UsageError) as err:
        check_work_flags(args)
    assert str(err.value) == (
        "--grid gives 10,000, above the limit of 1,000: narrow the grid, or raise the limit with "
        "--max-combinations N (at most 100,000)"
    )
    check_work_flags(_backtest_args("--grid", f"top_n={hundred}", "--grid", f"ma_fast={hundred}",
                                    "--max-combinations", "10000"))  # fmt: skip


def test_more_workers_than_four_per_core_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with pytest.raises(
        UsageError, match=r"--workers 9 is above the limit of 8 \(4 per core; this machine has 2\)"
    ):
        check_work_flags(_backtest_args("--workers", "9"))
    check_work_flags(_backtest_args("--workers", "8"))


@pytest.mark.parametrize("text", ["²h", "١h", "1²h", "9999999999999999d", "53w"])
def test_timeframes_take_ascii_digits_and_at_most_a_year(text: str) -> None:
    with pytest.raises(UsageError, match="bad timeframe"):
        timeframe_ms(text)


def test_valid_timeframes_still_read() -> None:
    assert [timeframe_ms(t) for t in ("1m", "8h", "1d", "52w")] == [
        60_000,
        28_800_000,
        86_400_000,
        52 * 604_800_000,
    ]


@pytest.mark.parametrize("text", ["١٢", "１２", "12.٥", "1,٥"])
def test_numbers_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(UsageError, match="is not a number"):
        read_number(text)


def test_well_formed_input_still_runs(db: Path, capsys: pytest.CaptureFixture) -> None:
    sized = run_json(capsys, "size", "--symbol", "BTC/USDT:USDT", "--side", "long", "--stop-pct", "2",
                     "--equity", "10000", "--fee", "0.0005", "--json")  # fmt: skip
    assert sized["symbol"] == "BTCDEMO/USDT:USDT"
    markets = run_json(capsys, "markets", "--symbols", "BTC,ETH", "SOL", "--json")
    assert [m["symbol"] for m in markets] == ["BTCDEMO/USDT:USDT", "ETHDEMO/USDT:USDT", "SOLDEMO/USDT:USDT"]
    assert main(["paper", "fills", "--limit", "1000000", "--json"]) == 0


def test_an_unwritable_ledger_folder_is_refused_before_the_backtest_runs(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("the backtest ran")

    monkeypatch.setattr("perptui.services.backtest.run_report", never)
    monkeypatch.setattr("perptui.services.backtest_data.load_history", never)
    afile = tmp_path / "a-file"
    afile.write_text("")
    for folder, says in [
        ("/proc/nope", "cannot write the ledgers to /proc/nope"),
        (str(afile / "x"), "Not a directory"),
        (str(afile), "cannot write the ledgers to"),
    ]:
        code, line = run_error(capsys, *BACKTEST, "--ledger", folder)
        assert code == 2 and says in line, line


def test_a_backtest_that_fails_leaves_no_ledger_folder_behind(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "new" / "deep"
    code, line = run_error(capsys, *BACKTEST[:4], "NOPE", *BACKTEST[5:], "--ledger", str(folder))
    assert code == 2 and "unknown symbol 'NOPE'" in line
    assert not (tmp_path / "new").exists()
