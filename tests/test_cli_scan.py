"""`perptui scan`: the JSON contract on the demo market, the flags and bad input, the human table, the
cache (offline, --asof, an unreachable exchange), and real ccxt on the loopback Binance exchange."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perptui.cli import main
from perptui.domain.funding import apr
from perptui.domain.scanner import JSON_KEYS, SORT_KEYS
from perptui.domain.timeframes import DAY_MS, HOUR_MS, MINUTE_MS, parse_utc
from perptui.domain.types import FundingPrint, Market
from perptui.services.clock import FrozenClock, SystemClock
from perptui.services.demo import DemoExchange
from perptui.services.store import Store
from tests.cli_helpers import run_json
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

#: The loopback needs no request spacing: ccxt's rate limiter off (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("unthrottled_ccxt")
NOW = FROZEN_NOW_MS  # the demo market's frozen clock: 2025-06-01T00:00Z


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    return path


def scan(capsys: pytest.CaptureFixture, *argv: str) -> dict[str, Any]:
    return run_json(capsys, "scan", *argv, "--json")


def scan_error(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """A failing run: one line on stderr, nothing on stdout; argparse's errors come as SystemExit."""
    try:
        code = main(["scan", *argv])
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code != 0 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return code, lines[0]  # type: ignore[return-value]


def demo_live() -> tuple[dict, dict, dict]:
    """The demo market's markets, current funding and tickers at the frozen time, read directly."""

    async def read():
        source = DemoExchange(seed=7, clock=FrozenClock(NOW))
        return (
            {m.symbol: m for m in await source.load_markets()},
            await source.fetch_funding_rates(),
            await source.fetch_tickers(),
        )

    return asyncio.run(read())


def cached_prints(db: Path, exchange: str, symbol: str, since: int, until: int) -> list[tuple[int, float]]:
    with Store.open(db) as store:
        return [(p.time, p.rate) for p in store.load_funding(exchange, symbol, since, until)]


# --- the demo market --------------------------------------------------------------------------------


def test_json_has_every_demo_perp_with_its_live_rate_history_and_carry(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    data = scan(capsys)
    assert list(data) == ["asof", "rows", "spreads", "sources"]
    assert data["sources"] == [{"exchange": "demo", "source": "live", "reason": None, "cache_age_s": None}]
    assert data["asof"] == "2025-06-01T00:00:00Z" and data["spreads"] == []  # one exchange: no spreads
    markets, rates, tickers = demo_live()
    rows = data["rows"]
    assert sorted(r["symbol"] for r in rows) == sorted(markets)
    magnitudes = [abs(r["apr"]) for r in rows]
    assert magnitudes == sorted(magnitudes, reverse=True)  # by |APR| by default
    for r in rows:
        assert list(r) == list(JSON_KEYS) and r["exchange"] == "demo"
        fr, t, m = rates[r["symbol"]], tickers[r["symbol"]], markets[r["symbol"]]
        assert (r["funding_rate"], r["interval_hours"], r["predicted_rate"]) == (
            fr.rate, fr.interval_hours, fr.predicted_rate,
        )  # fmt: skip
        assert r["apr"] == apr(fr.rate, fr.interval_hours)  # a fraction: 0.1095 is 10.95% a year
        assert r["next_funding_time"] == fr.next_funding_time
        assert (r["mark"], r["volume_24h_usd"]) == (fr.mark, t.quote_volume_24h)
        assert r["ticker_time"] == t.timestamp > 0  # the ticker's own time, in ms
        # Every window holds the prints its interval calls for, so no statistic is marked incomplete.
        held = {k: (v["prints"], v["expected"], v["complete"]) for k, v in r["coverage"].items()}
        per_day = 24 // int(fr.interval_hours)
        assert held == {f"{d}d": (d * per_day, d * per_day, True) for d in (7, 30, 90)}
        assert r["incomplete"] == []
        # 90 days of history were fetched first: every window has its mean, by hand from the cache.
        for days in (7, 30, 90):
            window = cached_prints(db, "demo", r["symbol"], NOW - days * DAY_MS + 1, NOW + 1)
            assert r[f"mean_apr_{days}d"] == pytest.approx(sum(x for _, x in window) * 365 / days, rel=1e-12)
        assert 0 <= r["pct_positive_30d"] <= 1 and r["std_apr_30d"] > 0
        mean = r["mean_apr_30d"]
        earn = abs(mean) - (0.10 if mean < 0 else 0.0)
        cost = 2 * (0.001 + m.taker_fee) + 0.001
        assert r["carry_net_apr"] == pytest.approx(earn - cost * 365 / 30)


def test_progress_on_stderr_for_people_and_silence_with_json(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["scan", "--top", "3"]) == 0
    captured = capsys.readouterr()
    assert "demo funding history" in captured.err and "102/102" in captured.err  # 34 perps x 3 stages
    lines = captured.out.splitlines()
    assert lines[0].startswith("demo funding — 2025-06-01T00:00:00Z — 3 of 34 perps")
    assert "DEMO market" in lines[1]
    header = lines[2].split()
    assert header[:5] == ["perp", "rate", "per", "APR", "next"] and header[-5:] == [
        "net",
        "APR",
        "BE",
        "days",
        "hist",
    ]
    assert {"7d", "30d", "90d", "+30d", "z30d", "basis", "OI", "carry"} <= set(header)
    top = scan(capsys, "--top", "1")["rows"][0]
    assert lines[4].split()[0] == top["symbol"].split("/")[0]  # the same order as the JSON
    assert capsys.readouterr().err == ""  # --json: no progress, no notes


def test_a_narrow_terminal_drops_the_least_important_columns(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from perptui.cli import output

    screen = io.StringIO()
    monkeypatch.setattr(
        output, "_out", Console(file=screen, force_terminal=True, width=90, color_system=None)
    )
    assert main(["scan", "--top", "5"]) == 0
    lines = screen.getvalue().splitlines()  # the table (the title lines go to stdout directly)
    assert len(lines) == 2 + 5 and max(len(line) for line in lines) <= 90
    header = lines[0].split()
    for kept in ("perp", "rate", "APR", "30d", "net"):
        assert kept in header
    for dropped in ("OI", "basis", "vol", "z30d"):
        assert dropped not in header


def test_top_and_the_filters_keep_the_order(db: Path, capsys: pytest.CaptureFixture) -> None:
    every = scan(capsys)["rows"]
    assert scan(capsys, "--top", "5")["rows"] == every[:5]
    by_apr = scan(capsys, "--min-apr", "50")["rows"]  # percent: |APR| of at least 50% a year
    assert 0 < len(by_apr) < len(every) and by_apr == [r for r in every if abs(r["apr"]) >= 0.5]
    by_volume = scan(capsys, "--min-volume", "1e9")["rows"]
    assert 0 < len(by_volume) < len(every) and by_volume == [r for r in every if r["volume_24h_usd"] >= 1e9]
    picked = scan(capsys, "--symbols", "BTC", "ethusdt")["rows"]
    assert {r["symbol"] for r in picked} == {"BTCDEMO/USDT:USDT", "ETHDEMO/USDT:USDT"}


def test_sort_keys_text_a_to_z_numbers_high_first_and_reverse(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    symbols = [r["symbol"] for r in scan(capsys, "--sort", "symbol")["rows"]]
    assert symbols == sorted(symbols)
    means = [r["mean_apr_30d"] for r in scan(capsys, "--sort", "mean_apr_30d")["rows"]]
    assert means == sorted(means, reverse=True) and means[0] > means[-1]
    reverse = [r["mean_apr_30d"] for r in scan(capsys, "--sort", "mean_apr_30d", "--reverse")["rows"]]
    assert reverse == means[::-1]


def test_breakeven_sorts_quickest_first_with_the_never_ones_last(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    rows = scan(capsys, "--sort", "breakeven_days")["rows"]
    days = [r["breakeven_days"] for r in rows]
    known = [d for d in days if d is not None]
    assert known == sorted(known) and days[: len(known)] == known


def test_hold_days_and_the_configured_costs_price_the_carry(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_SCAN__SLIPPAGE_BPS", "20")
    monkeypatch.setenv("PERPTUI_SCAN__BORROW_APR_PCT", "25")
    markets, _, _ = demo_live()
    for r in scan(capsys, "--hold-days", "90")["rows"]:
        mean = r["mean_apr_30d"]
        earn = abs(mean) - (0.25 if mean < 0 else 0.0)
        cost = 2 * (0.001 + markets[r["symbol"]].taker_fee) + 0.002  # four fills and 20 bp of slippage
        assert r["carry_net_apr"] == pytest.approx(earn - cost * 365 / 90)
        assert r["breakeven_days"] == (pytest.approx(cost / (earn / 365)) if earn > 0 else None)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--sort", "volume"], ["unknown --sort key 'volume'", "abs_apr", "volume_24h_usd"]),
        (["--top", "0"], ["--top", "above 0"]),
        (["--top", "-2"], ["--top", "above 0"]),
        (["--top", "ten"], ["--top", "'ten' is not a number"]),
        (["--hold-days", "0"], ["--hold-days", "above 0"]),
        (["--hold-days", "4000"], ["--hold-days", "at most 3650"]),
        (["--min-apr", "-1"], ["--min-apr", "0 or more"]),
        (["--min-volume", "-5"], ["--min-volume", "0 or more"]),
        (["--min-volume", "lots"], ["--min-volume", "not a number"]),
        (["--asof", "yesterday"], ["bad --asof 'yesterday'", "2024-01-31"]),
        (["--asof", "2999-01-01"], ["--asof 2999-01-01 is in the future"]),
        (["--symbols", "NOPE"], ["unknown symbol 'NOPE'"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], words: list[str]
) -> None:
    code, line = scan_error(capsys, *argv)
    assert code == 2
    for word in words:
        assert word in line
    if argv[0] == "--sort":
        assert all(key in line for key in SORT_KEYS)


def test_offline_uses_the_cache_with_a_note_and_without_it_fails_clearly(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    code, line = scan_error(capsys, "--offline")
    assert code == 1 and "holds no markets for demo" in line

    live = {r["symbol"]: r for r in scan(capsys)["rows"]}
    assert main(["scan", "--offline", "--json"]) == 0
    captured = capsys.readouterr()
    offline = json.loads(captured.out)
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("offline: demo scanned from the cache: markets ")
    assert "tickers 0 s old" in captured.err and "newest funding print" in captured.err
    assert offline["asof"] == "2025-06-01T00:00:00Z" and len(offline["rows"]) == len(live)
    for r in offline["rows"]:
        (_, last_rate), *_ = cached_prints(db, "demo", r["symbol"], 0, NOW + 1)[-1:]
        assert r["funding_rate"] == last_rate  # the last settled print stands for the current rate
        assert r["next_funding_time"] is None and r["predicted_rate"] is None
        same = live[r["symbol"]]
        assert r["mark"] == same["mark"] and r["volume_24h_usd"] == same["volume_24h_usd"]  # cached ticker
        assert r["mean_apr_30d"] == same["mean_apr_30d"] and r["carry_net_apr"] == same["carry_net_apr"]


def test_asof_a_past_time_reads_the_cache_as_it_was(db: Path, capsys: pytest.CaptureFixture) -> None:
    scan(capsys)  # fills the cache: 90 days of prints, a ticker snapshot now
    asof = NOW - 20 * DAY_MS + 90 * MINUTE_MS
    data = scan(capsys, "--asof", "2025-05-12T01:30")
    assert data["asof"] == "2025-05-12T01:30:00Z"
    for r in data["rows"]:
        times_rates = cached_prints(db, "demo", r["symbol"], asof - 40 * DAY_MS, asof + 1)
        (t1, _), (t2, rate) = times_rates[-2:]
        assert r["funding_rate"] == rate and r["interval_hours"] == (t2 - t1) / HOUR_MS
        assert (r["mark"], r["volume_24h_usd"]) == (None, None)  # no ticker was cached back then
        assert r["mean_apr_30d"] is not None and r["mean_apr_90d"] is None  # the cache starts 90 days ago
        window = [x for t, x in times_rates if t > asof - 7 * DAY_MS]
        assert r["mean_apr_7d"] == pytest.approx(sum(window) * 365 / 7, rel=1e-12)


# --- real ccxt on the loopback Binance exchange -----------------------------------------------------

#: The loopback serves the real files up to 09:30 and perptui's clock reads 10:00:30 (the sandbox's
#: calendar is past the end of the files), after the close of the hour bar its tickers are built from.
SERVED_UNTIL = parse_utc("2026-02-20T09:30")
LOOPBACK_NOW = parse_utc("2026-02-20T10:00:30")
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@pytest.fixture
def at_loopback_now(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """perptui's clock at the loopback's time (a list to move it); a fresh cache; no retries."""
    now = [LOOPBACK_NOW]
    monkeypatch.setattr(SystemClock, "now_ms", lambda self: now[0])
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "binance.db"))
    monkeypatch.setenv("PERPTUI_NETWORK__MAX_RETRIES", "0")
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    return now


@pytest.fixture
def binance() -> Iterator[LoopbackExchange]:
    yield from fixtures.serve(fixtures.make_real(SERVED_UNTIL))


def binance_argv(server: LoopbackExchange) -> list[str]:
    """``perptui scan`` of the test symbols on the loopback Binance, as JSON."""
    return [
        "scan",
        "--exchange",
        "binanceusdm",
        "--api-base-url",
        server.base_url,
        "--symbols",
        *SYMBOLS,
        "--json",
    ]


def binance_scan(capsys: pytest.CaptureFixture, server: LoopbackExchange, *extra: str) -> dict[str, Any]:
    return scan(capsys, *binance_argv(server)[1:-1], *extra)


def csv_prints(binance_data: Path, stem: str) -> list[tuple[int, float]]:
    import csv

    with (binance_data / "funding" / f"{stem}.csv").open() as fh:
        return [(int(r["fundingTime"]) // 1000 * 1000, float(r["fundingRate"])) for r in csv.DictReader(fh)]


def test_loopback_binance_rows_with_real_symbols_live_rates_and_the_history(
    binance: LoopbackExchange, at_loopback_now: list[int], capsys: pytest.CaptureFixture, binance_data: Path
) -> None:
    data = binance_scan(capsys, binance)
    rows = {r["symbol"]: r for r in data["rows"]}
    assert set(rows) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"}
    for stem in SYMBOLS:
        r = rows[f"{stem.removesuffix('USDT')}/USDT:USDT"]
        premium = binance.source._premium(stem)
        assert r["exchange"] == "binanceusdm"
        assert r["funding_rate"] == float(premium["lastFundingRate"]) and r["mark"] == float(
            premium["markPrice"]
        )
        assert r["interval_hours"] == 8  # not stated by Binance for 8h markets: from the prints' spacing
        assert r["apr"] == pytest.approx(r["funding_rate"] * 3 * 365)
        assert r["next_funding_time"] == premium["nextFundingTime"]
        # The history came through ccxt page by page: the means equal the real file's.
        prints = csv_prints(binance_data, stem)
        for days in (7, 30, 90):
            window = [x for t, x in prints if LOOPBACK_NOW - days * DAY_MS < t <= LOOPBACK_NOW]
            assert r[f"mean_apr_{days}d"] == pytest.approx(sum(window) * 365 / days, rel=1e-12)
        assert r["volume_24h_usd"] > 0 and r["basis"] == pytest.approx((r["mark"] - r["index"]) / r["index"])

    # A minute later no print is due: nothing more is asked of the funding history.
    binance.clear_requests()
    at_loopback_now[0] = LOOPBACK_NOW + MINUTE_MS
    again = binance_scan(capsys, binance)
    assert binance.requests_to("/fapi/v1/fundingRate") == []
    assert [r["mean_apr_30d"] for r in again["rows"]] == [
        rows[r["symbol"]]["mean_apr_30d"] for r in again["rows"]
    ]


def test_loopback_binance_second_scan_fetches_only_new_prints(
    binance: LoopbackExchange, at_loopback_now: list[int], capsys: pytest.CaptureFixture, binance_data: Path
) -> None:
    binance_scan(capsys, binance)
    db = Path(__import__("os").environ["PERPTUI_DB"])
    newest = {s: cached_prints(db, "binanceusdm", f"{s.removesuffix('USDT')}/USDT:USDT", 0, 2**62)[-1][0]
              for s in SYMBOLS}  # fmt: skip
    later = LOOPBACK_NOW + 8 * HOUR_MS
    at_loopback_now[0] = later
    for server in fixtures.serve(
        fixtures.make_real(SERVED_UNTIL + 8 * HOUR_MS)
    ):  # a second server, serving 8 hours more
        binance_scan(capsys, server)
        asked = server.requests_to("/fapi/v1/fundingRate")
        assert {r.query["symbol"] for r in asked} == set(SYMBOLS)
        for request in asked:
            assert int(request.query["startTime"]) > newest[request.query["symbol"]]  # never older prints
    for stem in SYMBOLS:
        cached = cached_prints(db, "binanceusdm", f"{stem.removesuffix('USDT')}/USDT:USDT", 0, 2**62)
        expected = [p for p in csv_prints(binance_data, stem) if LOOPBACK_NOW - 7 * DAY_MS < p[0] <= later]
        assert cached[-len(expected) :] == expected and cached[-1][0] > newest[stem]


def test_loopback_binance_unreachable_uses_the_cache_with_a_note(
    binance: LoopbackExchange, at_loopback_now: list[int], capsys: pytest.CaptureFixture, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    online = {r["symbol"]: r for r in binance_scan(capsys, binance)["rows"]}
    binance.faults.drop("*", times=None)
    argv = binance_argv(binance)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert (
        captured.err.startswith("binanceusdm is unreachable (") and "scanned from the cache" in captured.err
    )
    cached = {r["symbol"]: r for r in json.loads(captured.out)["rows"]}
    assert set(cached) == set(online)
    for symbol, r in cached.items():
        assert (
            r["funding_rate"]
            == cached_prints(tmp_path / "binance.db", "binanceusdm", symbol, 0, 2**62)[-1][1]
        )
        assert r["mean_apr_30d"] == online[symbol]["mean_apr_30d"]  # the same history
        assert r["mark"] == online[symbol]["mark"]  # the ticker snapshot of the online run

    # A cache that holds nothing for the exchange: a clear error, no rows made up.
    monkeypatch.setenv("PERPTUI_DB", str(tmp_path / "empty.db"))
    code, line = scan_error(capsys, *argv[1:])
    assert code == 1 and "binanceusdm" in line and "the cache holds no markets for binanceusdm yet" in line


def test_loopback_binance_history_unreachable_still_gives_live_rates(
    binance: LoopbackExchange, at_loopback_now: list[int], capsys: pytest.CaptureFixture
) -> None:
    binance.faults.http(503, "/fapi/v1/fundingRate", times=None)
    argv = binance_argv(binance)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "the history backfill stopped" in captured.err and captured.err.count("\n") == 1
    rows = json.loads(captured.out)["rows"]
    assert len(rows) == 3
    for r in rows:
        assert r["funding_rate"] is not None and r["mark"] is not None  # live
        assert (r["mean_apr_7d"], r["zscore_30d"], r["carry_net_apr"]) == (None, None, None)  # no history


def test_several_exchanges_scan_each_and_a_symbol_need_only_be_listed_on_one(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    scan(capsys, "--top", "1")  # the demo market's markets and history in the cache
    real_now = SystemClock().now_ms() // HOUR_MS * HOUR_MS  # a ccxt exchange runs on the system's clock
    with Store.open(db) as store:  # a second exchange, cached by hand: BTC only, 8h prints
        store.upsert_markets("bybit", [Market("bybit", "BTC/USDT:USDT", "BTCUSDT", "BTC", "USDT", "USDT",
                                              taker_fee=0.00055)], NOW)  # fmt: skip
        store.upsert_funding(
            "bybit", [FundingPrint("BTC/USDT:USDT", real_now - k * 8 * HOUR_MS, 1e-4) for k in range(3)]
        )
    assert (
        main(["scan", "--exchange", "demo", "bybit", "--offline", "--symbols", "ETH", "BTCUSDT", "--json"])
        == 0
    )
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["rows"]
    assert {(r["exchange"], r["symbol"]) for r in rows} == {
        ("demo", "ETHDEMO/USDT:USDT"), ("demo", "BTCDEMO/USDT:USDT"), ("bybit", "BTC/USDT:USDT"),
    }  # fmt: skip
    bybit = next(r for r in rows if r["exchange"] == "bybit")
    assert bybit["funding_rate"] == 1e-4 and bybit["interval_hours"] == 8 and bybit["mean_apr_7d"] is None
    assert "bybit lists no ETH: left out there" in captured.err
    code, line = scan_error(capsys, "--exchange", "demo", "bybit", "--offline", "--symbols", "NOPE")
    assert code == 2 and "unknown symbol 'NOPE'" in line
