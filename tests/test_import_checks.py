"""Issue 19, items 1 and 2: tiers from any source pass one check (a ``cum`` of -inf never makes a 10x long
"never liquidated"), and imports never rewrite history silently nor store garbage names or times."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.cli import main
from perptui.domain.errors import UsageError
from perptui.domain.sizing import SizingRequest, size_position
from perptui.domain.tier_check import TierProblem, check_tiers
from perptui.domain.types import LeverageTier, Market
from perptui.services.exchanges import ccxt_convert as conv
from perptui.services.exchanges.ccxt_adapter import CcxtExchange
from perptui.services.importers import import_funding, import_ohlcv, import_tiers
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json

EX = "binanceusdm"
BTC = "BTC/USDT:USDT"
NOW = 1_735_689_600_000  # 2025-01-01


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def market(tiers: tuple[LeverageTier, ...] = ()) -> Market:
    return Market(EX, BTC, "BTCUSDT", "BTC", "USDT", "USDT", amount_step=0.001, price_tick=0.1,
                  taker_fee=0.0005, max_leverage=125.0, tiers=tiers)  # fmt: skip


def ten_x_long(m: Market):
    return size_position(
        SizingRequest(m, "long", 60_000.0, 58_800.0, 10_000.0, risk_fraction=0.01, leverage=10.0)
    )


def tiers_file(path: Path, cum: str) -> Path:
    rows = [
        {"minNotional": 0, "maxNotional": 50_000, "maintenanceMarginRate": 0.004, "maxLeverage": 125,
         "info": {"cum": cum}},
        {"minNotional": 50_000, "maxNotional": 600_000, "maintenanceMarginRate": 0.005, "maxLeverage": 100,
         "info": {"cum": cum}},
    ]  # fmt: skip
    path.write_text(json.dumps({BTC: rows}, indent=1))
    return path


# --- item 1: the tier check -----------------------------------------------------------------------


@pytest.mark.parametrize("cum", ["-inf", "nan", "1e308", "-5"])
def test_the_issues_cum_file_imports_with_the_recomputed_cum_and_a_real_liquidation_price(
    tmp_path: Path, store: Store, cum: str
) -> None:
    report = import_tiers(store, EX, tiers_file(tmp_path / "tiers.json", cum))
    assert report.rows_added == 1 and report.bad_rows == []
    assert "recomputed from the brackets (0, 50)" in report.warnings[0].reason
    stored = store.load_tiers(EX)[BTC]
    assert [t.maint_amount for t in stored] == [0.0, 50.0]  # 50_000 x (0.5% - 0.4%)
    store.upsert_markets(EX, [market()], NOW)
    r = ten_x_long(store.load_markets(EX)[0])
    # Isolated 10x: LP = (IM + cum - Q x E) / (Q x mmr - Q) with the first bracket's 0.4% and cum 0.
    q = r.quantity
    assert r.liquidation_price == pytest.approx((q * 60_000 / 10 - q * 60_000) / (q * 0.004 - q))
    assert r.liquidation_price == pytest.approx(54_216.867, abs=0.01)
    assert not r.never_liquidated


def test_a_cached_cum_of_minus_inf_written_before_the_check_is_recomputed_on_load(
    tmp_path: Path, store: Store
) -> None:
    store.upsert_markets(EX, [market()], NOW)
    with sqlite3.connect(tmp_path / "cache.db") as raw:  # a row as the old import wrote it
        raw.execute(
            "INSERT INTO tiers (exchange, symbol, tier, min_notional, max_notional, mmr, maint_amount, "
            "max_leverage, source, fetched_at) VALUES (?, ?, 1, 0, NULL, 0.004, ?, 125, 'import:x', 1)",
            (EX, BTC, -math.inf),
        )
    assert store.load_tiers(EX)[BTC][0].maint_amount == 0.0
    r = ten_x_long(store.load_markets(EX)[0])
    assert r.liquidation_price is not None and r.liquidation_price > 0


def test_unusable_tiers_make_the_market_approximate_never_never_liquidated() -> None:
    m = market((LeverageTier(0.0, math.inf, 1.5, 0.0, 10.0),))
    assert m.tiers_approximate and m.tiers_note and "not a fraction" in m.tiers_note
    r = ten_x_long(m)
    assert r.liquidation_price is not None and not r.never_liquidated
    assert {"tiers_corrected", "tiers_approximate"} <= {w.code for w in r.warnings}


@pytest.mark.parametrize(
    ("tiers", "match"),
    [
        ((LeverageTier(0, 100, 0.01, 0, 50), LeverageTier(50, 200, 0.02, 0, 25)), "brackets must ascend"),
        ((LeverageTier(0, 100, 0.02, 0, 50), LeverageTier(100, 200, 0.01, 0, 25)), "is below tier 1's"),
        ((LeverageTier(0, 100, 0.5, 0, 10),), "already below maintenance"),
        ((LeverageTier(0, 100, 0.01, 0, math.nan),), "max leverage nan"),
        ((), "no tiers"),
    ],
)
def test_unusable_ladders_are_refused_with_the_reason(tiers: tuple[LeverageTier, ...], match: str) -> None:
    with pytest.raises(TierProblem, match=match):
        check_tiers(tiers)


def test_okx_style_whole_notional_tiers_pass_unchanged() -> None:
    okx = (LeverageTier(0, 500_000, 0.004, 0.0, 100), LeverageTier(500_000, math.inf, 0.01, 0.0, 50))
    assert check_tiers(okx).tiers == okx and check_tiers(okx).warning is None


def test_the_exchanges_tiers_pass_the_check_in_the_adapter() -> None:
    raw = [
        {"minNotional": 0, "maxNotional": 50_000, "maintenanceMarginRate": 0.004, "maxLeverage": 125,
         "info": {"cum": "0"}},
        {"minNotional": 50_000, "maxNotional": None, "maintenanceMarginRate": 0.005, "maxLeverage": 100,
         "info": {"cum": "1e308"}},
    ]  # fmt: skip
    adapter = SimpleNamespace(name=EX)
    fixed = CcxtExchange._checked_tiers(adapter, BTC, conv.tiers_from_ccxt(raw))  # type: ignore[arg-type]
    assert [t.maint_amount for t in fixed] == [0.0, 50.0]
    raw[1]["maintenanceMarginRate"] = 0  # unusable: the cache's or the default ladder stands in
    assert CcxtExchange._checked_tiers(adapter, BTC, conv.tiers_from_ccxt(raw)) == []  # type: ignore[arg-type]


@st.composite
def ladders(draw: st.DrawFn) -> tuple[LeverageTier, ...]:
    n = draw(st.integers(1, 6))
    floors = [0.0]
    for _ in range(n - 1):
        floors.append(floors[-1] + draw(st.floats(5_000.0, 1e7)))  # 10x fits a 4,650 position
    rates = sorted(draw(st.lists(st.floats(1e-4, 0.99), min_size=n, max_size=n)))
    levs = [draw(st.floats(1.0, 1.0 / r)) for r in rates]
    levs[0] = max(levs[0], 10.0) if rates[0] <= 0.1 else levs[0]
    cums = draw(st.lists(st.floats(-1e6, 1e6) | st.sampled_from([0.0, math.inf, -math.inf, math.nan, 1e308]),
                         min_size=n, max_size=n))  # fmt: skip
    caps = [*floors[1:], math.inf]
    return tuple(LeverageTier(*row) for row in zip(floors, caps, rates, cums, levs, strict=True))


@settings(max_examples=300, deadline=None)
@given(ladders())
def test_any_ladder_the_check_accepts_liquidates_a_10x_isolated_long_at_a_finite_price(
    tiers: tuple[LeverageTier, ...],
) -> None:
    try:
        checked = check_tiers(tiers)
    except TierProblem:
        return
    m = market(checked.tiers)
    if m.tiers[0].max_leverage < 10:
        return  # 10x is refused before any price is computed
    r = ten_x_long(m)
    assert r.liquidation_price is not None and math.isfinite(r.liquidation_price) and r.liquidation_price > 0
    assert not r.never_liquidated


# --- item 2: imports ------------------------------------------------------------------------------


def funding_csv(path: Path, *rows: str) -> Path:
    path.write_text("fundingTime,fundingTimeUTC,symbol,fundingRate\n" + "".join(f"{r}\n" for r in rows))
    return path


def test_conflicting_prints_are_reported_and_kept_unless_replace(tmp_path: Path, store: Store) -> None:
    import_funding(store, EX, funding_csv(tmp_path / "BTCUSDT.csv", "1577836800000,x,BTCUSDT,-0.00012359"))
    (tmp_path / "b").mkdir()
    other = funding_csv(
        tmp_path / "b" / "BTCUSDT.csv",
        "1577836800000,x,BTCUSDT,0.0007",  # line 2: conflicts with the stored print
        "1577865600000,x,BTCUSDT,0.0001",  # 3: new
        "1577865600000,x,BTCUSDT,0.0002",  # 4: duplicate of 3
    )
    report = import_funding(store, EX, other)
    assert report.conflicts == 1 and report.conflict_examples[0].line == 2
    assert "0.0007, stored -0.00012359" in report.conflict_examples[0].reason
    assert [(d.line, "repeats line 3" in d.reason) for d in report.duplicates] == [(4, True)]
    assert report.rows_added == 1
    assert [p.rate for p in store.load_funding(EX, BTC)] == [-0.00012359, 0.0001]
    replaced = import_funding(store, EX, other, replace=True)
    assert replaced.conflicts == 1 and replaced.replaced
    assert [p.rate for p in store.load_funding(EX, BTC)] == [0.0007, 0.0001]


def test_tiers_that_differ_from_the_cached_ones_are_conflicts_kept_unless_replace(
    tmp_path: Path, store: Store
) -> None:
    first = tiers_file(tmp_path / "a.json", "0")
    assert import_tiers(store, EX, first).rows_added == 1
    second = tmp_path / "b.json"
    rows = [{"minNotional": 0, "maxNotional": 10_000, "maintenanceMarginRate": 0.01, "maxLeverage": 50}]
    second.write_text(json.dumps({"ETH/USDT:USDT": rows, BTC: rows}, indent=1))
    report = import_tiers(store, EX, second)
    assert report.rows_added == 1  # ETH: new, no conflict
    assert report.conflicts == 1 and not report.replaced
    example = report.conflict_examples[0]
    assert (example.file, example.line) == (second, 10)  # the line of the BTC key
    assert "the cache holds other brackets (2 brackets, the first to 50,000 at 0.4000%" in example.reason
    assert store.load_tiers(EX)[BTC][0].mmr == 0.004
    assert import_tiers(store, EX, first).conflicts == 0  # the same brackets again: no conflict
    replaced = import_tiers(store, EX, second, replace=True)
    assert replaced.conflicts == 1 and replaced.replaced and replaced.rows_added == 1
    assert store.load_tiers(EX)[BTC][0].mmr == 0.01


def test_real_tiers_stand_in_for_approximate_ones_without_a_conflict(tmp_path: Path, store: Store) -> None:
    approx = (LeverageTier(0, math.inf, 0.05, 0, 10),)
    store.upsert_tiers(EX, BTC, approx, "approximate", NOW)
    report = import_tiers(store, EX, tiers_file(tmp_path / "a.json", "0"))
    assert report.conflicts == 0 and report.rows_added == 1
    assert store.load_tiers(EX)[BTC][0].mmr == 0.004


def test_ohlcv_rows_dated_year_1_or_9999_are_bad_rows_and_no_coverage(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ETHUSDT.csv"
    days = ["0001-01-01", "2024-01-02", "2024-01-03", "9999-12-31"]
    path.write_text("date,open,high,low,close,volume\n" + "".join(f"{d},1,2,0.5,1.5,10\n" for d in days))
    report = import_ohlcv(store, EX, path, "1d", now_ms=NOW)
    assert [b.line for b in report.bad_rows] == [2, 5] and report.rows_added == 2
    assert store.ohlcv_bounds(EX, "ETH/USDT:USDT", "1d") == (1_704_153_600_000, 1_704_240_000_000)
    ahead = tmp_path / "SOLUSDT.csv"
    ahead.write_text(f"openTime,open,high,low,close,volume\n{NOW + 2 * 86_400_000},1,2,0.5,1.5,1\n")
    assert "a day after now" in import_ohlcv(store, EX, ahead, "1d", now_ms=NOW).bad_rows[0].reason


def test_ohlcv_conflicts_keep_the_stored_bar(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "ETHUSDT.csv"
    path.write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n")
    import_ohlcv(store, EX, path, "1d", now_ms=NOW)
    path.write_text("date,open,high,low,close,volume\n2024-01-02,1,3,0.5,1.5,10\n")
    report = import_ohlcv(store, EX, path, "1d", now_ms=NOW)
    assert report.conflicts == 1 and store.load_ohlcv(EX, "ETH/USDT:USDT", "1d")[0].high == 2


def test_garbage_symbols_are_bad_rows_never_stored(tmp_path: Path, store: Store) -> None:
    path = funding_csv(
        tmp_path / "f.csv",
        "1577836800000,x,💩/USDT:USDT,0.0001",
        f"1577836800000,x,{'A' * 5000}/USDT,0.0001",
        "1577836800000,x,BTC\x00USDT,0.0001",
        "1577836800000,x,BTC/USDT:USDT:USDT,0.0001",
    )
    report = import_funding(store, EX, path)
    assert len(report.bad_rows) == 4 and report.rows_added == 0
    assert store.counts()["funding"] == 0
    data = {"💩/USDT:USDT": [{"minNotional": 0, "maintenanceMarginRate": 0.01, "maxLeverage": 50}]}
    (tmp_path / "t.json").write_text(json.dumps(data))
    assert import_tiers(store, EX, tmp_path / "t.json").bad_rows[0].reason.endswith("is not a market name")


def test_a_file_name_that_names_no_market_is_refused_unless_symbol_says(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "bad_BTCUSDT.csv"
    path.write_text("fundingTime,fundingRate\n1577836800000,0.0001\n")
    with pytest.raises(UsageError, match=r"does not name a market.*--symbol"):
        import_funding(store, EX, path)
    assert import_funding(store, EX, path, symbol="BTCUSDT").rows_added == 1
    assert [s for s in store.load_tiers(EX)] == [] and store.load_funding(EX, BTC)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "db" / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    config = tmp_path / "empty.toml"  # no user config file reaches the test (an existing, empty one)
    config.write_text("")
    monkeypatch.setenv("PERPTUI_CONFIG", str(config))
    return path


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--exchange", "nosuch"], "unknown exchange 'nosuch'"),
        (["--exchange", "binanceusdn"], "did you mean binanceusdm"),
        (["--exchange", EX, "--symbol", "💩"], "--symbol: symbol '💩' holds characters"),
        (["--exchange", EX, "--symbol", "BTC/USDT:USDT:USDT"], "is not a market name"),
    ],
)
def test_the_cli_refuses_bad_names_before_touching_the_cache(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture, argv: list[str], match: str
) -> None:
    path = funding_csv(tmp_path / "bad_BTCUSDT.csv", "1577836800000,x,BTCUSDT,0.0001")
    code, line = run_error(capsys, "import", "--funding", str(path), *argv)
    assert code == 2 and match in line
    assert not db.exists()


def test_the_cli_refuses_a_file_name_before_touching_the_cache(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "bad_BTCUSDT.csv"
    path.write_text("fundingTime,fundingRate\n1577836800000,0.0001\n")  # no symbol column: the name rules
    code, line = run_error(capsys, "import", "--exchange", EX, "--funding", str(path))
    assert code == 2 and "does not name a market" in line and not db.exists()


def test_the_cli_reports_conflicts_and_replaces_only_when_asked(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture
) -> None:
    first = funding_csv(tmp_path / "BTCUSDT.csv", "1577836800000,x,BTCUSDT,-0.00012359")
    run_json(capsys, "import", "--exchange", EX, "--funding", str(first), "--json")
    (tmp_path / "b").mkdir()
    second = funding_csv(tmp_path / "b" / "BTCUSDT.csv", "1577836800000,x,BTCUSDT,0.0007")
    out = run_json(capsys, "import", "--exchange", EX, "--funding", str(second), "--json")["funding"]
    assert out["conflicts"]["count"] == 1 and not out["conflicts"]["replaced"] and out["rows_added"] == 0
    out = run_json(capsys, "import", "--exchange", EX, "--funding", str(second), "--replace", "--json")
    assert out["funding"]["conflicts"]["replaced"]
    with Store.open(db) as s:
        assert [p.rate for p in s.load_funding(EX, BTC)] == [0.0007]


def test_the_cli_reports_tier_conflicts_and_replaces_only_when_asked(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture
) -> None:
    run_json(
        capsys, "import", "--exchange", EX, "--tiers", str(tiers_file(tmp_path / "a.json", "0")), "--json"
    )
    second = tmp_path / "b.json"
    rows = [{"minNotional": 0, "maxNotional": 10_000, "maintenanceMarginRate": 0.01, "maxLeverage": 50}]
    second.write_text(json.dumps({BTC: rows}))
    assert main(["import", "--exchange", EX, "--tiers", str(second)]) == 0
    printed = capsys.readouterr()
    assert "tiers: 1 file(s), 1 rows read, 0 added, 0 bad, 1 in conflict with the cache: kept" in printed.out
    assert f"conflict {second}:1: {BTC}: the cache holds other brackets" in printed.err
    out = run_json(capsys, "import", "--exchange", EX, "--tiers", str(second), "--replace", "--json")
    assert out["tiers"]["conflicts"] == {
        "count": 1,
        "replaced": True,
        "first": out["tiers"]["conflicts"]["first"],
    }
    with Store.open(db) as s:
        assert s.load_tiers(EX)[BTC][0].mmr == 0.01
