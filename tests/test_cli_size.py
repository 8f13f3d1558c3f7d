"""`perptui size`: the JSON contract, agreement with the domain, defaults, ATR stops, take-profits, Kelly,
warnings, bad input, the cache, and real ccxt on the loopback Binance exchange."""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from perptui.cli import main
from perptui.domain.sizing import JSON_KEYS, SizingRequest, TakeProfitSpec, size_position, stop_price
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Market
from perptui.domain.volatility import atr
from perptui.presentation.ticket import ticket_text
from perptui.services.accounts import PaperAccount
from perptui.services.clock import FrozenClock, SystemClock
from perptui.services.sizing_inputs import MarketSnapshot, live_snapshot
from perptui.services.store import Store
from tests.cli_helpers import run_json
from tests.conftest import FROZEN_NOW_MS
from tests.loopback import fixtures
from tests.loopback.server import LoopbackExchange

loopback_real = fixtures.loopback_real

BTC = "BTCDEMO/USDT:USDT"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port on loopback


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


@lru_cache(maxsize=1)
def _demo() -> tuple[dict[str, Market], dict[str, MarketSnapshot]]:
    """Every demo market and its live snapshot at the frozen time, read straight from the demo source."""
    from perptui.services.demo import DemoExchange

    async def read() -> tuple[dict[str, Market], dict[str, MarketSnapshot]]:
        source = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))
        try:
            markets = {m.symbol: m for m in await source.load_markets()}
            snaps = {s: await live_snapshot(source, m, FROZEN_NOW_MS) for s, m in markets.items()}
        finally:
            await source.close()
        return markets, snaps

    return asyncio.run(read())


def market(symbol: str = BTC) -> Market:
    return _demo()[0][symbol]


def snap(symbol: str = BTC) -> MarketSnapshot:
    return _demo()[1][symbol]


def size(capsys: pytest.CaptureFixture, *argv: str) -> dict[str, Any]:
    return run_json(capsys, "size", *argv, "--json")


def size_error(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """A failing run: argparse's errors exit through SystemExit, the command's return their code."""
    try:
        code = main(["size", *argv])
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return code, lines[0]  # type: ignore[return-value]


def expected(symbol: str = BTC, **fields: Any) -> dict[str, Any]:
    """``size_position`` called directly, with the CLI's defaults for what ``fields`` leaves out, as JSON."""
    s = snap(symbol)
    request = {
        "market": market(symbol),
        "side": "long",
        "entry": s.mark,
        "equity": 5000.0,
        "risk_fraction": 0.01,
        "slippage_bps": 5.0,
        "funding_rate": s.funding_rate,
        "funding_interval_hours": s.funding_interval_hours,
        "mark": s.mark,
        "max_risk_fraction": 0.02,
        "funding_warn_apr": 0.20,
    } | fields
    result = size_position(SizingRequest(**request))
    return json.loads(json.dumps(result.as_dict()))


def without_extras(data: dict[str, Any]) -> dict[str, Any]:
    extras = ("market_data", "atr", "kelly", "contracts", "contract_size")
    return {k: v for k, v in data.items() if k not in extras}


# --- the JSON contract and agreement with the domain ------------------------------------------------


@pytest.mark.parametrize(("side", "stop"), [("long", 84_000.0), ("short", 88_000.0)])
def test_json_has_every_key_and_the_domains_numbers(
    db: Path, capsys: pytest.CaptureFixture, side: str, stop: float
) -> None:
    data = size(capsys, "--symbol", "BTCDEMOUSDT", "--side", side, "--stop", str(stop), "--equity", "10000",
                "--risk-pct", "1.5", "--leverage", "10", "--tp", "1,2")  # fmt: skip
    assert list(data)[: len(JSON_KEYS)] == list(JSON_KEYS)
    assert (data["symbol"], data["side"], data["entry"], data["stop"]) == (BTC, side, snap().mark, stop)
    assert data["risk_pct"] == pytest.approx(0.015, rel=0.01)  # a fraction
    assert data["leverage"] == 10 and data["binding_constraint"] == "risk"
    step = market().amount_step
    assert data["quantity"] > 0 and round(data["quantity"] / step, 6).is_integer()
    assert data["market_data"] == {
        "mark": snap().mark,
        "as_of": "2025-06-01T00:00:00Z",
        "cached": False,
        "source": "live",
        "reason": None,
        "cache_age_s": None,
    }
    # The demo market trades in base units: a contract is one BTCDEMO, so the contracts are the quantity.
    assert (data["contracts"], data["contract_size"]) == (data["quantity"], 1.0)
    want = expected(side=side, stop=stop, equity=10_000.0, risk_fraction=0.015, leverage=10.0,
                    take_profits=(TakeProfitSpec(r=1), TakeProfitSpec(r=2)))  # fmt: skip
    assert without_extras(data) == want


def test_percent_stop_risk_amount_fee_slippage_and_cross_margin(
    db: Path, capsys: pytest.CaptureFixture
) -> None:
    data = size(capsys, "--symbol", "ETHDEMO", "--side", "short", "--entry", "6000", "--stop-pct", "2.5",
                "--equity", "8000", "--risk-usd", "120", "--fee", "0.0006", "--slippage-bps", "10",
                "--margin-mode", "cross", "--leverage", "auto")  # fmt: skip
    eth = "ETHDEMO/USDT:USDT"
    stop = stop_price("short", 6000.0, pct=0.025, tick=market("ETHDEMO/USDT:USDT").price_tick)
    assert data["stop"] == stop == pytest.approx(6150.0)
    assert (data["margin_mode"], data["fee_entry"], data["fee_exit"], data["slippage_bps"]) == (
        "cross", 0.0006, 0.0006, 10.0,
    )  # fmt: skip
    assert data["leverage_auto"] is True
    want = expected(eth, side="short", entry=6000.0, stop=stop, equity=8000.0, risk_fraction=None,
                    risk_amount=120.0, fee_entry=0.0006, fee_exit=0.0006, slippage_bps=10.0,
                    margin_mode="cross")  # fmt: skip
    assert without_extras(data) == want


def test_defaults_mark_paper_equity_and_the_accounts_risk(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["account", "deposit", "1000"]) == 0  # equity 6,000
    capsys.readouterr()
    with Store.open(db) as store:  # what the account pane does when the trader sets 1.5%
        PaperAccount(store, SystemClock(), starting_capital=5000, risk_pct=0.01, neutral_pct=0.7,
                     directional_pct=0.3).set_risk_pct(0.015)  # fmt: skip
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2")
    stop = stop_price("long", snap().mark, pct=0.02, tick=market().price_tick)
    assert (data["entry"], data["equity"], data["risk_budget_usd"]) == (snap().mark, 6000.0, 90.0)
    assert (data["leverage_auto"], data["margin_mode"], data["slippage_bps"]) == (True, "isolated", 5.0)
    assert data["fee_entry"] == market().taker_fee
    want = expected(stop=stop, equity=6000.0, free_margin=6000.0, risk_fraction=0.015)
    assert without_extras(data) == want
    # --equity stands for the account's equity and free margin; the account's risk % still applies.
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--equity", "2000")
    assert (data["equity"], data["risk_budget_usd"]) == (2000.0, 30.0)


def test_defaults_from_the_config(db: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    for name, value in {"RISK__RISK_PCT": "1.5", "RISK__MAX_RISK_PCT": "1", "SIZING__LEVERAGE": "5",
                        "SIZING__MARGIN_MODE": "cross", "SIZING__SLIPPAGE_BPS": "0"}.items():  # fmt: skip
        monkeypatch.setenv(f"PERPTUI_{name}", value)
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "short", "--stop-pct", "1")
    assert (data["risk_budget_usd"], data["leverage"], data["leverage_auto"]) == (75.0, 5.0, False)
    assert (data["margin_mode"], data["slippage_bps"]) == ("cross", 0.0)
    assert "risk_above_max" in data["warning_codes"]  # 1.5% is above the 1% maximum
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "short", "--stop-pct", "1", "--leverage", "auto")
    assert data["leverage_auto"] is True


# --- stops from the ATR, take-profits, Kelly ---------------------------------------------------------


def _demo_atr(symbol: str, timeframe: str, period: int) -> float:
    """The ATR straight from the demo source's closed bars over the window ``read_atr`` uses."""
    from perptui.services.demo import DemoExchange

    tf = timeframe_ms(timeframe)
    since = FROZEN_NOW_MS - (3 * period + 2) * tf

    async def bars() -> list:
        source = DemoExchange(seed=7, clock=FrozenClock(FROZEN_NOW_MS))
        candles: list = []
        cursor = since
        while True:
            page = await source.fetch_ohlcv(symbol, timeframe, cursor)
            page = [c for c in page if c.time >= cursor]
            if not page:
                return candles
            candles += page
            cursor = page[-1].time + 1

    closed = [c for c in asyncio.run(bars()) if c.time + tf <= FROZEN_NOW_MS]
    value = atr(closed, period)
    assert value is not None
    return value


def test_atr_stop_online_then_offline(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-atr", "2")
    value = _demo_atr(BTC, "1h", 14)
    assert data["atr"]["value"] == pytest.approx(value, rel=1e-12)
    assert (data["atr"]["timeframe"], data["atr"]["period"], data["atr"]["multiple"]) == ("1h", 14, 2)
    assert data["atr"]["bars"] >= 15 and data["atr"]["last_close"] == "2025-06-01T00:00:00Z"
    assert data["stop"] == pytest.approx(snap().mark - 2 * value)
    assert without_extras(data) == expected(stop=data["stop"])

    data = size(capsys, "--symbol", "BTCDEMO", "--side", "short", "--stop-atr", "1.5", "--atr-period", "5",
                "--atr-timeframe", "4h")  # fmt: skip
    value = _demo_atr(BTC, "4h", 5)
    assert (data["atr"]["timeframe"], data["atr"]["period"]) == ("4h", 5)
    assert data["stop"] == pytest.approx(snap().mark + 1.5 * value)

    offline = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-atr", "2", "--offline")
    assert offline["atr"]["value"] == pytest.approx(_demo_atr(BTC, "1h", 14), rel=1e-12)


def test_atr_stop_with_too_few_cached_bars(db: Path, capsys: pytest.CaptureFixture) -> None:
    size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "1")  # markets and ticker, no bars
    code, line = size_error(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-atr", "2", "--offline")
    assert code == 1
    assert "too few 1h candles" in line and "0 closed bar(s)" in line and "15 needed" in line
    assert "drop --offline" in line


def test_take_profits_at_r_multiples_and_prices(db: Path, capsys: pytest.CaptureFixture) -> None:
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--tp", "1,2,3")
    tps = data["take_profits"]
    # R multiples are those of the target on the tick toward the entry: at most the multiple asked for.
    assert [tp["r"] for tp in tps] == pytest.approx([1, 2, 3], abs=1e-3)
    assert all(tp["r"] <= asked for tp, asked in zip(tps, [1, 2, 3], strict=False))
    assert [tp["share"] for tp in tps] == pytest.approx([1 / 3] * 3)
    assert sum(tp["qty"] for tp in tps) == pytest.approx(data["quantity"])
    assert tps[0]["price"] < tps[1]["price"] < tps[2]["price"]
    assert tps[2]["pnl_usd"] == pytest.approx(
        tps[2]["r"] * data["risk_usd"] * tps[2]["qty"] / data["quantity"]
    )

    mark = snap().mark
    targets = f"{mark * 1.03:.1f},{mark * 1.06:.1f}"
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--tp", "1",
                "--tp-price", targets)  # fmt: skip
    prices = [float(p) for p in targets.split(",")]
    assert [tp["price"] for tp in data["take_profits"][1:]] == prices
    want = expected(stop=stop_price("long", mark, pct=0.02, tick=market().price_tick), take_profits=(
        TakeProfitSpec(r=1), TakeProfitSpec(price=prices[0]), TakeProfitSpec(price=prices[1])))  # fmt: skip
    assert without_extras(data) == want


def test_kelly_sizes_the_risk(db: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--kelly", "55,1.5")
    # f* = 0.55 - 0.45 / 1.5 = 25%; half Kelly 12.5% is capped at the 2% maximum per trade.
    assert data["kelly"] == {"full": pytest.approx(0.25), "fraction": 0.5, "suggested": 0.02, "capped": True}
    assert data["risk_budget_usd"] == pytest.approx(100.0)
    assert "risk_above_max" not in data["warning_codes"]

    monkeypatch.setenv("PERPTUI_RISK__MAX_RISK_PCT", "20")
    monkeypatch.setenv("PERPTUI_SIZING__KELLY_FRACTION", "0.25")
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--kelly", "40,2")
    # f* = 0.4 - 0.6 / 2 = 10%; a quarter of it.
    assert data["kelly"] == {"full": pytest.approx(0.1), "fraction": 0.25, "suggested": pytest.approx(0.025),
                             "capped": False}  # fmt: skip
    assert data["risk_budget_usd"] == pytest.approx(125.0)

    code, line = size_error(
        capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--kelly", "30,1"
    )
    assert code == 2 and "no edge" in line


def test_warnings_stop_beyond_liquidation_risk_and_funding(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "5", "--leverage", "50")
    assert data["liquidation_price"] > data["stop"]  # 50x is liquidated about 2% away
    assert "stop_beyond_liquidation" in data["warning_codes"]
    assert any("can never fill" in w for w in data["warnings"])

    data = size(capsys, "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "2", "--risk-pct", "3")
    assert data["warning_codes"] == ["risk_above_max"]

    monkeypatch.setenv("PERPTUI_SIZING__FUNDING_WARN_APR_PCT", "0")
    paying = "long" if snap().funding_rate > 0 else "short"  # the side that pays funding now
    data = size(capsys, "--symbol", "BTCDEMO", "--side", paying, "--stop-pct", "2")
    assert "funding_against" in data["warning_codes"] and data["funding_per_day_usd"] < 0


def test_human_output_is_the_ticket(db: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["size", "--symbol", "BTCDEMO", "--side", "long", "--stop-pct", "5", "--leverage", "50",
            "--tp", "2"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    m = market()
    result = size_position(SizingRequest(
        market=m, side="long", entry=snap().mark,
        stop=stop_price("long", snap().mark, pct=0.05, tick=m.price_tick),
        equity=5000.0, risk_fraction=0.01, leverage=50.0, slippage_bps=5.0,
        take_profits=(TakeProfitSpec(r=2),), funding_rate=snap().funding_rate,
        funding_interval_hours=snap().funding_interval_hours, mark=snap().mark, max_risk_fraction=0.02,
    ))  # fmt: skip
    assert result.warnings  # the ticket shows them too
    assert captured.out == ticket_text(result, m.price_tick, m.amount_step, m.settle) + "\n"
    assert "! the stop" in captured.out and captured.err == ""


# --- bad input ---------------------------------------------------------------------------------------

SYM = ["--symbol", "BTCDEMO"]
LONG = [*SYM, "--side", "long"]


@pytest.mark.parametrize(
    ("argv", "expected_text"),
    [
        ([*LONG, "--entry", "100", "--stop", "110"], "stop: 110 is above the entry 100"),
        ([*SYM, "--side", "short", "--entry", "100", "--stop", "90"], "a short's stop goes above it"),
        ([*LONG, "--entry", "100", "--stop", "100"], "equals the entry 100"),
        ([*LONG, "--entry", "100", "--stop", "-5"], "argument --stop: '-5' must be above 0 (see"),
        ([*LONG, "--entry", "-100", "--stop", "90"], "argument --entry: '-100' must be above 0 (see"),
        ([*LONG, "--stop-pct", "0"], "argument --stop-pct: '0' must be above 0"),
        ([*LONG, "--stop-pct", "100"], "--stop-pct: '100' is above the largest accepted stop distance 99.9%"),
        ([*LONG, "--stop-pct", "150"], "'150' is above the largest accepted stop distance 99.9%"),
        ([*LONG, "--stop-pct", "2", "--equity", "-100"], "argument --equity: '-100' must be above 0"),
        ([*LONG, "--stop-pct", "2", "--equity", "1e15"], "accepted amount 1,000,000,000 USDT"),
        ([*LONG, "--stop-pct", "2", "--risk-usd", "-5"], "argument --risk-usd: '-5' must be above 0"),
        ([*LONG, "--stop-pct", "2", "--risk-usd", "9000"], "more than the equity"),
        ([*LONG, "--stop-pct", "2", "--risk-pct", "0"], "argument --risk-pct: '0' must be above 0"),
        ([*LONG, "--stop-pct", "2", "--risk-pct", "101"], "above the largest accepted risk 100%"),
        ([*LONG, "--stop-pct", "2", "--leverage", "0.5"], "'0.5' is below the smallest accepted leverage 1x"),
        ([*LONG, "--stop-pct", "2", "--leverage", "200"], "above the largest accepted leverage 125x"),
        ([*LONG, "--stop-pct", "2", "--fee", "0.05"], "fee: must be a fraction"),
        ([*LONG, "--stop-pct", "2", "--slippage-bps", "-1"], "slippage"),
        ([*LONG, "--stop-pct", "2", "--tp", "-1"], "argument --tp: '-1' must be above 0"),
        ([*LONG, "--stop-pct", "2", "--tp-price", "1"], "makes no profit after fees"),
        ([*LONG, "--stop-pct", "2", "--kelly", "55"], "--kelly takes WIN%,PAYOFF"),
        ([*LONG, "--stop-pct", "2", "--kelly", "150,2"], "in '150,2': '150' is above the largest"),
        ([*LONG, "--stop-pct", "2", "--atr-period", "5"], "go with --stop-atr"),
        ([*LONG, "--stop-atr", "0"], "argument --stop-atr: '0' must be above 0"),
        ([*LONG, "--stop-atr", "2", "--atr-period", "0"], "argument --atr-period: '0' must be above 0"),
        ([*LONG, "--stop-atr", "2", "--atr-period", "5000"], "--atr-period must be"),
        ([*LONG, "--stop-atr", "2", "--atr-timeframe", "7x"], "--atr-timeframe: bad timeframe"),
        (["--symbol", "BTCDEMOO", "--side", "long", "--stop-pct", "2"], "did you mean BTCDEMO/USDT:USDT"),
        (["--symbol", "XYZQ", "--side", "long", "--stop-pct", "2"], "unknown symbol 'XYZQ' on demo"),
        # argparse: non-numeric values, exclusive and missing flags
        ([*LONG, "--entry", "abc", "--stop", "1"], "argument --entry: 'abc' is not a number"),
        ([*LONG, "--entry", "-1", "--stop", "1"], "error: argument --entry: '-1' must be above 0 (see"),
        (
            [*LONG, "--entry", "1,500", "--stop", "1"],
            "argument --entry: '1,500' is ambiguous: a comma may be a thousands separator or a decimal "
            "comma; type 1500 or 1.5 (see",
        ),
        ([*LONG, "--stop", "nan"], "argument --stop: 'nan' is not a number"),
        ([*LONG, "--stop-pct", "two"], "argument --stop-pct: 'two' is not a number"),
        ([*LONG, "--stop-pct", "2", "--leverage", "x"], "argument --leverage"),
        ([*LONG, "--stop-pct", "2", "--tp", "1,a"], "argument --tp: in '1,a': 'a' is not a number"),
        ([*LONG, "--stop-atr", "2", "--atr-period", "x"], "argument --atr-period: 'x' is not a number"),
        ([*LONG, "--stop-atr", "2", "--atr-period", "2.5"], "--atr-period: '2.5' is not a whole number"),
        ([*LONG, "--stop-pct", "2", "--risk-pct", "1", "--risk-usd", "10"],
         "argument --risk-usd: not allowed with argument --risk-pct"),
        ([*LONG, "--stop-pct", "2", "--risk-pct", "1", "--kelly", "55,2"], "not allowed with"),
        ([*LONG, "--stop", "1", "--stop-pct", "2"], "not allowed with"),
        (LONG, "one of the arguments --stop --stop-pct --stop-atr is required"),
        ([*SYM, "--side", "up", "--stop-pct", "2"], "argument --side: invalid choice: 'up'"),
        ([*LONG, "--stop-pct", "2", "--margin-mode", "hedge"], "--margin-mode: invalid choice"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], expected_text: str
) -> None:
    code, line = size_error(capsys, *argv)
    assert code == 2
    assert expected_text in line


def test_exchange_account_needs_an_exchange_or_equity(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    code, line = size_error(capsys, *SYM, "--side", "long", "--stop-pct", "2")
    assert code == 2 and "needs a real exchange" in line
    code, line = size_error(capsys, *SYM, "--side", "long", "--stop-pct", "2", "--offline")
    assert code == 2 and "drop --offline or give --equity" in line
    data = size(capsys, *SYM, "--side", "long", "--stop-pct", "2", "--equity", "3000")
    assert data["equity"] == 3000.0 and data["risk_budget_usd"] == 30.0


# --- the cache ---------------------------------------------------------------------------------------


def test_offline_with_an_empty_cache(db: Path, capsys: pytest.CaptureFixture) -> None:
    code, line = size_error(capsys, *SYM, "--side", "long", "--stop-pct", "2", "--offline")
    assert code == 1 and "the cache holds no markets for demo" in line


def test_offline_from_the_cache_of_an_online_run(db: Path, capsys: pytest.CaptureFixture) -> None:
    argv = [*SYM, "--side", "long", "--stop-pct", "2", "--tp", "1,2"]
    online = size(capsys, *argv)
    offline = run_json(capsys, "size", *argv, "--offline", "--json")
    err = capsys.readouterr().err
    funding = {
        "funding_per_day_usd",
        "funding_rate",
        "funding_per_interval_usd",
        "funding_apr",
        "market_data",
    }
    assert {k: v for k, v in offline.items() if k not in funding} == {
        k: v for k, v in online.items() if k not in funding
    }
    assert offline["market_data"] == {
        "mark": snap().mark,
        "as_of": "2025-06-01T00:00:00Z",
        "cached": True,
        "source": "cache",
        "reason": "offline",
        "cache_age_s": 0.0,  # the ticker the online run stored, at the demo market's frozen time
    }
    assert offline["funding_rate"] is None  # no settled print cached yet

    assert main(["size", *argv, "--offline"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "offline: sizing from the cache" in err
    assert "mark from a ticker 0 s old" in err and "no funding rate" in err

    assert (
        main(["fetch", "--symbols", "BTCDEMOUSDT", "--since", "2025-05-30", "--kind", "funding", "--json"])
        == 0
    )
    capsys.readouterr()
    with Store.open(db) as store:
        last_print = store.load_funding("demo", BTC, since=0)[-1]
    data = run_json(capsys, "size", *argv, "--offline", "--json")
    assert data["funding_rate"] == last_print.rate and data["funding_interval_hours"] == 8


def test_offline_without_a_cached_mark_needs_the_entry(db: Path, capsys: pytest.CaptureFixture) -> None:
    run_json(capsys, "markets", "--json")  # markets only: no ticker in the cache
    code, line = size_error(capsys, *SYM, "--side", "long", "--stop-pct", "2", "--offline")
    assert code == 2 and "no mark price of BTCDEMO/USDT:USDT is known in the cache" in line
    assert "--entry" in line
    data = size(capsys, *SYM, "--side", "long", "--stop-pct", "2", "--entry", "80000", "--offline")
    assert data["entry"] == 80_000
    assert data["market_data"] == {
        "mark": None,
        "as_of": None,
        "cached": True,
        "source": "cache",
        "reason": "offline",
        "cache_age_s": None,  # no ticker cached: no age to tell
    }


# --- real ccxt on the loopback Binance exchange ------------------------------------------------------


@pytest.fixture
def binance_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Real ccxt; API keys, so the loopback serves Binance's real leverage brackets."""
    path = tmp_path / "cache.db"
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_NETWORK__BACKOFF_S", "0.01")
    monkeypatch.setenv("PERPTUI_API_KEY", "loopback-key")
    monkeypatch.setenv("PERPTUI_API_SECRET", "loopback-secret")
    return path


def test_loopback_binance_real_step_tiers_and_liquidation(
    loopback_real: LoopbackExchange, binance_env: Path, capsys: pytest.CaptureFixture, binance_data: Path
) -> None:
    argv = ["--exchange", "binanceusdm", "--api-base-url", loopback_real.base_url, "--symbol", "BTCUSDT"]
    data = size(capsys, *argv, "--side", "long", "--stop-pct", "1", "--equity", "1000000", "--risk-pct", "1",
                "--leverage", "20")  # fmt: skip
    assert data["symbol"] == "BTC/USDT:USDT" and data["exchange"] == "binanceusdm"
    assert data["entry"] == data["market_data"]["mark"] and data["market_data"]["cached"] is False
    assert data["funding_rate"] is not None and data["funding_interval_hours"] == 8
    assert data["tiers_approximate"] is False and "tiers_approximate" not in data["warning_codes"]
    assert round(data["quantity"] / 0.001, 6).is_integer()  # BTCUSDT's real step
    q, e = data["quantity"], data["entry"]
    assert data["notional"] == pytest.approx(q * e) and data["notional"] > 600_000  # past the first brackets

    # By hand: isolated margin Q x E / L; the bracket of the real file holding the liquidation notional.
    real = json.loads((binance_data / "leverage_tiers_2024-10-24.json").read_text())["BTC/USDT:USDT"]
    wallet = q * e / 20
    found = []
    for t in real:
        mmr, cum = t["maintenanceMarginRate"], float(t["info"]["cum"])
        price = (wallet + cum - q * e) / (q * mmr - q)
        if t["minNotional"] <= q * price < t["maxNotional"]:
            found.append((price, t))
    assert len(found) == 1
    price, tier = found[0]
    assert tier["minNotional"] > 0  # not the first bracket: the tier maths matters
    assert data["liquidation_price"] == pytest.approx(price, rel=1e-12)
    assert data["liquidation_tier"]["mmr"] == tier["maintenanceMarginRate"]
    cum, mmr = float(tier["info"]["cum"]), tier["maintenanceMarginRate"]
    assert data["liquidation_price"] == pytest.approx(e * (1 - 1 / 20 - cum / (q * e)) / (1 - mmr))


def test_loopback_exchange_account_and_an_unreachable_exchange(
    loopback_real: LoopbackExchange,
    binance_env: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["--exchange", "binanceusdm", "--symbol", "ETHUSDT", "--side", "long", "--stop-pct", "1"]
    monkeypatch.setenv("PERPTUI_ACCOUNT", "exchange")
    # The loopback account: equity 1,010 and free margin 949; at 1x the free margin binds.
    data = size(
        capsys, *argv, "--api-base-url", loopback_real.base_url, "--risk-usd", "20", "--leverage", "1"
    )
    assert (data["equity"], data["binding_constraint"]) == (1010.0, "margin")
    assert data["initial_margin"] + data["fee_entry_usd"] <= 949.0
    assert data["limits"]["margin"] == pytest.approx(949.0 / (data["entry"] * (1 + data["fee_entry"])))

    # Unreachable: the markets and the mark come from the cache that run filled, with a note.
    monkeypatch.setenv("PERPTUI_NETWORK__MAX_RETRIES", "0")
    argv += ["--api-base-url", CLOSED_PORT_URL, "--risk-usd", "20", "--leverage", "1", "--equity", "1010"]
    assert main(["size", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    cached = json.loads(captured.out)
    assert captured.err.count("\n") == 1
    assert "binanceusdm is unreachable" in captured.err and "sizing from the cache" in captured.err
    assert cached["market_data"]["cached"] is True and cached["entry"] == data["entry"]
    assert cached["limits"]["risk"] == data["limits"]["risk"]

    argv.remove("--equity")
    argv.remove("1010")
    code, line = size_error(capsys, *argv)
    assert code == 1 and "give --equity to size without the exchange's balance" in line
