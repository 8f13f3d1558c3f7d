"""The scanner's statistics on real funding history, against an independent pandas computation.

The real Binance files (../shared/data/binance/funding) are imported into a temporary cache and
``history_stats`` / ``history_stats_of`` / ``perptui scan --asof ... --offline --json`` are checked
against the definitions computed here from the CSV files with pandas: windows (t - N days, t], mean
APR = sum of rates x 365 / N, each print annualised by its own interval (the spacing from the print
before), sample std (ddof = 1), share of prints > 0, the z-score of the last print against the 30-day
prints, the longest run of same-sign prints. Covered: BTC (8h), SOL in November 2022 (8h, then 4h, then
2h prints), POL (4h), and windows the history does not reach (ARB listed 2023-03-23) giving null.

Cross-exchange spreads on ../shared/data/multi_exchange (dates UTC+3) are checked by hand as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from perptui.cli import main
from perptui.domain.funding_stats import history_stats
from perptui.domain.scanner import JSON_KEYS, CarryCosts, scan_row, spreads
from perptui.domain.timeframes import DAY_MS, HOUR_MS, parse_utc
from perptui.domain.types import FundingPrint, FundingRate, Market
from perptui.services.importers import import_funding
from perptui.services.scan import HISTORY_DAYS, history_stats_of
from perptui.services.store import Store
from tests.conftest import BINANCE_DATA, SHARED_DATA
from tests.funding_reference import check, expected_stats_of, reference_frame

EX = "binanceusdm"
TAKER = 0.0005
# The defaults of [scan]: spot taker 0.1%, slippage 10 bp for the four fills, 30 days held, borrow 10%.
COSTS = CarryCosts(spot_taker=0.001, slippage=0.001, hold_days=30, borrow_apr=0.10)
MULTI = SHARED_DATA / "multi_exchange"


def ms(text: str) -> int:
    return parse_utc(text)


def symbol_of(file_stem: str) -> str:
    return f"{file_stem.removesuffix('USDT')}/USDT:USDT"


# --- the independent computation -----------------------------------------------------------------


@lru_cache(maxsize=32)
def prints(stem: str) -> pd.DataFrame:
    """One file's prints (times floored to the second as the cache stores them; Binance stamps a few
    ms late), with each print's interval (``tests.funding_reference.reference_frame``)."""
    frame = pd.read_csv(BINANCE_DATA / "funding" / f"{stem}.csv", usecols=["fundingTime", "fundingRate"])
    return reference_frame(frame["fundingTime"] // 1000 * 1000, frame["fundingRate"])


def expected_stats(stem: str, asof: int) -> dict[str, float | int | None]:
    """The statistics of one series as of ``asof`` by the definitions, with pandas."""
    return expected_stats_of(prints(stem), asof)


# --- the cache ------------------------------------------------------------------------------------


def real_markets() -> list[Market]:
    """The 15 files' perps as the exchange lists them today: POL settles every 4h, the others 8h."""
    stems = sorted(p.stem for p in (BINANCE_DATA / "funding").glob("*.csv"))
    return [
        Market(EX, symbol_of(s), s, s.removesuffix("USDT"), "USDT", "USDT", taker_fee=TAKER,
               funding_interval_hours=4.0 if s == "POLUSDT" else 8.0)
        for s in stems
    ]  # fmt: skip


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not BINANCE_DATA.is_dir():
        pytest.skip(f"real Binance data not present at {BINANCE_DATA} (only in the developers' checkout)")
    path = tmp_path_factory.mktemp("real") / "cache.db"
    with Store.open(path) as store:
        report = import_funding(store, EX, BINANCE_DATA / "funding")
        assert report.bad_rows == [] and report.rows_added == 90_097
        store.upsert_markets(EX, real_markets(), ms("2026-02-25"))
    yield path


@pytest.fixture
def store(real_db: Path) -> Iterator[Store]:
    with Store.open(real_db) as s:
        yield s


def cached_series(store: Store, symbol: str, asof: int) -> tuple[list[int], list[float]]:
    rows = store.load_funding(EX, symbol, since=asof - (HISTORY_DAYS + 1) * DAY_MS, until=asof + 1)
    return [p.time for p in rows], [p.rate for p in rows]


CASES = [
    ("BTCUSDT", "2024-06-01T00:00"),  # 8h, on a settlement time
    ("BTCUSDT", "2024-06-01T05:30"),  # between two prints
    ("ETHUSDT", "2022-09-16T00:00"),  # the day after the Merge (-0.30% funding) in the 7-day window
    ("SOLUSDT", "2022-11-13T07:00"),  # FTX: 8h, 4h then 2h prints in the windows; the last print a 2h one
    ("SOLUSDT", "2022-11-30T00:00"),
    ("POLUSDT", "2025-01-15T00:00"),  # 4h prints
    ("POLUSDT", "2024-12-01T00:00"),  # listed 2024-09-13: 90 days not reached yet
    ("ARBUSDT", "2023-04-10T00:00"),  # listed 2023-03-23: 7 days only
    ("ARBUSDT", "2023-04-21T08:00"),  # 29 days after listing: still no 30-day window
    ("ARBUSDT", "2023-04-23T16:00"),  # 31 days after: the 30-day window counts
]


@pytest.mark.parametrize(("stem", "when"), CASES)
def test_history_stats_match_pandas_on_real_prints(store: Store, stem: str, when: str) -> None:
    asof = ms(when)
    times, rates = cached_series(store, symbol_of(stem), asof)
    check(history_stats(times, rates, asof), expected_stats(stem, asof))


def test_intervals_and_null_windows_on_real_prints(store: Store) -> None:
    """What the cases above exercise, asserted outright."""
    sol = expected_stats("SOLUSDT", ms("2022-11-13T07:00"))
    assert sol["last_interval"] == 2.0  # the print of 06:00 settled 04:00-06:00
    spacing = set(
        prints("SOLUSDT").query("time > @ms('2022-11-06') and time <= @ms('2022-11-13')")["interval"]
    )
    assert spacing == {2.0, 4.0, 8.0}
    assert expected_stats("POLUSDT", ms("2025-01-15"))["last_interval"] == 4.0
    assert expected_stats("BTCUSDT", ms("2024-06-01"))["last_interval"] == 8.0
    arb = [history_stats(*cached_series(store, "ARB/USDT:USDT", ms(w)), ms(w)) for w in
           ("2023-04-10", "2023-04-21T08:00", "2023-04-23T16:00")]  # fmt: skip
    assert [[s.mean_apr[d] is None for d in (7, 30, 90)] for s in arb] == [
        [False, True, True], [False, True, True], [False, False, True],
    ]  # fmt: skip
    assert arb[0].zscore_30d is None and arb[0].std_apr_30d is None and arb[2].zscore_30d is not None
    before = history_stats(*cached_series(store, "ARB/USDT:USDT", ms("2023-03-01")), ms("2023-03-01"))
    assert before.last_rate is None and before.mean_apr == {7: None, 30: None, 90: None}


def test_all_series_at_once_equal_the_per_series_reference_exactly(store: Store) -> None:
    markets = real_markets()
    for when in (
        "2022-11-13T07:00",
        "2023-04-10T00:00",
        "2024-09-20T03:59",
        "2025-01-15T00:00",
        "2026-02-24T16:00",
    ):
        asof = ms(when)
        fast = history_stats_of(store, EX, markets, asof)
        for m in markets:
            reference = history_stats(*cached_series(store, m.symbol, asof), asof,
                                      fallback_interval_h=m.funding_interval_hours)  # fmt: skip
            assert fast[m.symbol] == reference, (m.symbol, when)


def test_scan_as_of_a_past_time_offline_matches_pandas(real_db: Path, capsys: pytest.CaptureFixture) -> None:
    when = "2022-11-13T07:00"
    asof = ms(when)
    code = main(["scan", "--exchange", EX, "--db", str(real_db), "--asof", when, "--offline", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["asof"] == "2022-11-13T07:00:00Z" and data["spreads"] == []
    rows = {r["symbol"]: r for r in data["rows"]}
    assert all(list(r) == list(JSON_KEYS) for r in data["rows"])
    assert "ARB/USDT:USDT" in rows and "POL/USDT:USDT" in rows  # listed later: rows of nulls
    for later in ("ARB/USDT:USDT", "POL/USDT:USDT"):
        # Only the interval the market states today is known; nothing of the history is.
        known = {k: v for k, v in rows[later].items() if v is not None}
        assert list(known) == ["exchange", "symbol", "interval_hours", "coverage", "incomplete"]
        assert [w["prints"] for w in known["coverage"].values()] == [0, 0, 0] and known["incomplete"] == []
    for stem in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"):
        row, want = rows[symbol_of(stem)], expected_stats(stem, asof)
        assert row["funding_rate"] == want["last_rate"]  # the last print at or before the as-of time
        assert row["interval_hours"] == want["last_interval"]  # SOL: 2h, whatever the market says today
        assert row["apr"] == pytest.approx(want["last_rate"] * 24 / want["last_interval"] * 365)
        for days in (7, 30, 90):
            assert row[f"mean_apr_{days}d"] == pytest.approx(want[f"mean_{days}"], rel=1e-9)
        assert row["std_apr_30d"] == pytest.approx(want["std_30"], rel=1e-9)
        assert row["pct_positive_30d"] == pytest.approx(want["pct_30"], rel=1e-12)
        assert row["zscore_30d"] == pytest.approx(want["z_30"], rel=1e-9)
        # Carry on the 30-day mean: SOL's was deeply negative, so long perp + short spot, paying 10% borrow.
        mean = want["mean_30"]
        earn = abs(mean) - (0.10 if mean < 0 else 0.0)
        cost = 2 * (0.001 + TAKER) + 0.001
        assert row["carry_direction"] == ("long_spot_short_perp" if mean >= 0 else "long_perp_short_spot")
        assert row["carry_net_apr"] == pytest.approx(earn - cost * 365 / 30, rel=1e-9)
        assert row["breakeven_days"] == (pytest.approx(cost / (earn / 365), rel=1e-9) if earn > 0 else None)
        assert (row["mark"], row["volume_24h_usd"], row["next_funding_time"]) == (None, None, None)
    # Every window whole, SOL's too: it settled every 8h, then every 2h in Nov 2022, and its 120 prints of
    # the last 30 days are all there were (not 120 of the 360 that 2h would make over 30 days).
    for stem in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"):
        row = rows[symbol_of(stem)]
        assert all(w["complete"] and w["prints"] == w["expected"] for w in row["coverage"].values()), stem
        assert row["incomplete"] == []
    assert rows["SOL/USDT:USDT"]["coverage"]["30d"]["prints"] == 120
    assert rows["SOL/USDT:USDT"]["carry_direction"] == "long_perp_short_spot"
    assert rows["SOL/USDT:USDT"]["interval_hours"] == 2.0
    order = [abs(r["apr"]) for r in data["rows"] if r["apr"] is not None]
    assert order == sorted(order, reverse=True)  # by |APR|, unknown last
    assert data["rows"][0]["symbol"] == "SOL/USDT:USDT"


# --- cross-exchange spreads on multi_exchange -----------------------------------------------------

MULTI_EXCHANGES = {"binance": "binanceusdm", "bybit": "bybit", "dydx": "dydx"}  # file name -> ccxt id
FEES = {"binanceusdm": 0.0005, "bybit": 0.00055, "dydx": 0.0005}


@lru_cache(maxsize=16)
def multi_prints(base: str, exchange: str) -> pd.DataFrame:
    """One multi_exchange file: time in UTC ms (the files say UTC+3), rate, interval from the spacing."""
    if not MULTI.is_dir():
        pytest.skip(f"multi-exchange data not present at {MULTI} (only in the developers' checkout)")
    (path,) = MULTI.glob(f"{base}-USDT_{exchange}_*_funding_history.csv")
    frame = pd.read_csv(path)
    utc = pd.to_datetime(frame["Date"], format="mixed") - timedelta(hours=3)
    times = utc.astype("datetime64[ms]").astype("int64") // 1000 * 1000  # a few carry ms: floored, as cached
    out = pd.DataFrame({"time": times, "rate": frame["Funding Rate"]})
    out = out.sort_values("time").reset_index(drop=True)
    out["interval"] = (out["time"].diff() / HOUR_MS).round()
    return out


def current(base: str, exchange: str, t: int) -> tuple[float, float]:
    """(last rate at or before t, the interval it settled)."""
    frame = multi_prints(base, exchange)
    last = frame[frame["time"] <= t].iloc[-1]
    return float(last["rate"]), float(last["interval"])


def test_multi_exchange_files_are_utc_plus_3() -> None:
    binance = multi_prints("BTC", "binance")
    assert (binance["time"] % (8 * HOUR_MS) == 0).all()  # 00/08/16 UTC once 3 hours are taken off
    assert binance["time"].iloc[0] == ms("2020-01-01T00:00")
    assert set(multi_prints("BTC", "dydx")["interval"].dropna()) == {1.0}  # dydx settles hourly


def test_cross_exchange_spread_from_the_cache_matches_a_hand_computation(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """BTC and ETH on binance (8h), bybit (8h) and dydx (1h) imported into a cache; `perptui scan` as of a
    time over the three exchanges gives the spread of each base by the hourly rates, net of four fills."""
    db = tmp_path / "multi.db"
    with Store.open(db) as store:
        for name, exchange in MULTI_EXCHANGES.items():
            markets = []
            for base in ("BTC", "ETH"):
                frame = multi_prints(base, name)
                quote = "USD" if exchange == "dydx" else "USDT"
                symbol = f"{base}/{quote}:{quote}"
                pairs = zip(frame["time"], frame["rate"], strict=True)
                store.upsert_funding(exchange, [FundingPrint(symbol, int(t), float(r)) for t, r in pairs])
                markets.append(
                    Market(exchange, symbol, f"{base}{quote}", base, quote, quote, taker_fee=FEES[exchange])
                )
            store.upsert_markets(exchange, markets, ms("2024-01-02"))
    when = "2023-06-15T12:30"
    t = ms(when)
    args = ["--db", str(db), "--asof", when, "--offline", "--json"]
    code = main(["scan", "--exchange", *MULTI_EXCHANGES.values(), *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert len(data["rows"]) == 6 and {r["exchange"] for r in data["rows"]} == set(MULTI_EXCHANGES.values())
    found = {s["base"]: s for s in data["spreads"]}
    assert set(found) == {"BTC", "ETH"}
    for base in ("BTC", "ETH"):
        per_hour = {}
        for name, exchange in MULTI_EXCHANGES.items():
            rate, interval = current(base, name, t)
            per_hour[exchange] = rate / interval
        low = min(per_hour, key=per_hour.__getitem__)
        high = max(per_hour, key=per_hour.__getitem__)
        spread = (per_hour[high] - per_hour[low]) * 24 * 365
        cost = 2 * (FEES[low] + FEES[high]) + 0.001
        s = found[base]
        assert (s["long_exchange"], s["short_exchange"]) == (low, high)
        assert s["long_rate_per_hour"] == pytest.approx(per_hour[low], rel=1e-12)
        assert s["spread_apr"] == pytest.approx(spread, rel=1e-9)
        assert s["round_trip_cost"] == pytest.approx(cost)
        assert s["net_apr"] == pytest.approx(spread - cost * 365 / 30, rel=1e-9)
        assert s["breakeven_days"] == (pytest.approx(cost / (spread / 365), rel=1e-9) if spread > 0 else None)
    nets = [s["net_apr"] for s in data["spreads"]]
    assert nets == sorted(nets, reverse=True)


def test_spreads_follow_hourly_rates_when_raw_rates_point_the_other_way() -> None:
    """A time where dydx's hourly rate is the smallest raw number but the highest per hour (or the
    reverse): the spread must short the highest per hour."""
    start, end = ms("2023-03-01"), ms("2023-04-01")
    for t in range(start, end, HOUR_MS):
        state = {ex: current("BTC", name, t) for name, ex in MULTI_EXCHANGES.items()}
        raw_top = max(state, key=lambda ex: state[ex][0])
        hourly_top = max(state, key=lambda ex: state[ex][0] / state[ex][1])
        if raw_top != hourly_top:
            break
    else:
        pytest.fail("no hour of March 2023 where raw and hourly rates disagree")
    rows = [
        scan_row(
            Market(ex, "BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT", "USDT", taker_fee=FEES[ex]),
            funding=FundingRate("BTC/USDT:USDT", t, rate, interval_hours=interval),
            ticker=None,
            stats=None,
            as_of=t,
        )
        for ex, (rate, interval) in state.items()
    ]
    (s,) = spreads(rows, COSTS)
    assert s.short.exchange == hourly_top != raw_top
    assert datetime.fromtimestamp(t / 1000, UTC).year == 2023
