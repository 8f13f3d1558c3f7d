"""The allocation service: PlanConfig from the settings; PlanInputs from the demo market (deterministic,
frozen clock), from the cache offline and when the exchange is unreachable; and an offline plan on real
Binance data imported into the cache."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from perptui.config.loader import load_settings
from perptui.domain.errors import ExchangeUnavailable
from perptui.domain.plan import PlanConfig, build_plan
from perptui.domain.timeframes import DAY_MS, parse_utc
from perptui.domain.types import Market
from perptui.services.allocation import inputs_key, load_plan_inputs, plan_config
from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.services.importers import import_funding, import_ohlcv
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS

CONFIG = PlanConfig(capital=5_000.0)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def test_plan_config_reads_plan_and_scan_settings() -> None:
    plan = {"neutral_pct": 60, "directional_pct": 40, "vol_target_pct": 20, "max_weight_pct": 25,
            "min_carry_apr_pct": 8}  # fmt: skip
    settings = load_settings(
        {"plan": plan, "scan": {"hold_days": 60, "slippage_bps": 5, "spot_taker_fee_pct": 0.2}}
    )
    c = plan_config(settings, capital=1_000.0, universe_size=4)
    assert (c.capital, c.neutral_pct, c.universe_size) == (1_000.0, 60, 4)
    assert (c.vol_target, c.max_weight, c.min_carry_apr) == pytest.approx((0.2, 0.25, 0.08))
    assert (c.hold_days, c.slippage, c.spot_taker) == pytest.approx((60, 0.0005, 0.002))


def test_inputs_key_changes_only_with_what_the_inputs_depend_on() -> None:
    assert inputs_key(CONFIG) == inputs_key(CONFIG.with_(risk_aversion=5.0, neutral_pct=50.0, vol_target=0.2))
    for change in ({"universe_size": 4}, {"lookback_days": 90}, {"timeframe": "4h"}, {"neutral_count": 8}):
        assert inputs_key(CONFIG.with_(**change)) != inputs_key(CONFIG)


def load(source, store: Store, config: PlanConfig = CONFIG):  # type: ignore[no-untyped-def]
    return asyncio.run(load_plan_inputs(source, store, "demo", config, FrozenClock(FROZEN_NOW_MS)))


def test_demo_market_inputs_and_a_plan(store: Store) -> None:
    source = DemoExchange(7, FrozenClock(FROZEN_NOW_MS))
    inputs = load(source, store)
    assert inputs.now == FROZEN_NOW_MS and inputs.notes == ()
    assert len(inputs.closes) == 2 * CONFIG.universe_size  # the busiest candidates
    for series in inputs.closes.values():
        assert len(series) >= 31 and series[-1][0] + DAY_MS <= FROZEN_NOW_MS  # closed bars only
    assert all(len(v) >= 365 for v in inputs.daily_closes.values())
    assert inputs.spot_available and inputs.spot_available <= set(inputs.markets)
    assert set(inputs.marks) == set(inputs.markets)
    plan = build_plan(inputs, CONFIG)
    assert plan.neutral and plan.directional
    assert plan.regime.state in ("calm", "elevated", "off")
    # deterministic: the same market and clock give the same plan
    again = build_plan(load(DemoExchange(7, FrozenClock(FROZEN_NOW_MS)), store), CONFIG)
    first, second = plan.as_dict(), again.as_dict()
    first.pop("optimizer"), second.pop("optimizer")  # solve_ms differs
    assert json.dumps(second) == json.dumps(first)


def test_the_store_is_only_used_off_the_event_loop(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pane awaits the service on the app's loop (ccxt): SQLite must run in threads."""
    on_loop: list[str] = []
    loop_thread = threading.get_ident()
    names = ("missing", "coverage", "add_coverage", "upsert_funding", "upsert_ohlcv", "load_ohlcv",
             "load_funding", "upsert_markets", "insert_tickers", "load_markets", "transaction")  # fmt: skip
    for name in names:
        original = getattr(Store, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            if threading.get_ident() == loop_thread:
                on_loop.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, spy)
    inputs = load(DemoExchange(7, FrozenClock(FROZEN_NOW_MS)), store)
    assert inputs.closes and on_loop == []


def test_offline_reads_the_same_history_from_the_cache(store: Store) -> None:
    live = load(DemoExchange(7, FrozenClock(FROZEN_NOW_MS)), store)
    cached = load(None, store)
    assert cached.notes[0] == "offline: from the cache"
    assert cached.current_rates == {}
    for symbol, series in live.closes.items():
        assert cached.closes[symbol] == series
    for symbol in live.spot_available:
        assert cached.funding[symbol] == live.funding[symbol]
    assert build_plan(cached, CONFIG).neutral


class Unreachable(DemoExchange):
    async def load_markets(self):  # type: ignore[no-untyped-def]
        raise ExchangeUnavailable("demo: connection refused")


def test_unreachable_falls_back_to_the_cache_with_a_note(store: Store) -> None:
    load(DemoExchange(7, FrozenClock(FROZEN_NOW_MS)), store)
    inputs = load(Unreachable(7, FrozenClock(FROZEN_NOW_MS)), store)
    assert "unreachable (demo: connection refused)" in inputs.notes[0]
    assert inputs.closes and inputs.funding


def test_an_empty_cache_offline_says_so(store: Store) -> None:
    inputs = load(None, store)
    assert any("holds no markets" in n for n in inputs.notes)
    plan = build_plan(inputs, CONFIG)
    assert plan.neutral == () and plan.directional == ()


REAL = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "ADA", "LINK")


def real_markets(binance_data: Path) -> list[Market]:
    info = json.loads((binance_data / "exchange_info_2022-05-04.json").read_text())
    out = []
    for s in info["symbols"]:
        base = s["baseAsset"]
        if base not in REAL or s["contractType"] != "PERPETUAL" or s["quoteAsset"] != "USDT":
            continue
        f = {x["filterType"]: x for x in s["filters"]}
        lot = f["LOT_SIZE"]
        out.append(
            Market("binanceusdm", f"{base}/USDT:USDT", s["symbol"], base, "USDT", "USDT",
                   amount_step=float(lot["stepSize"]), min_qty=float(lot["minQty"]),
                   min_notional=float(f["MIN_NOTIONAL"]["notional"]), taker_fee=0.0005, max_leverage=20.0,
                   funding_interval_hours=8.0, spot_symbol=f"{base}/USDT")
        )  # fmt: skip
    return out


def test_offline_plan_on_real_binance_data(binance_data: Path, store: Store) -> None:
    now = parse_utc("2024-03-15")  # a month of rich funding after a year of history
    for base in REAL:
        import_funding(store, "binanceusdm", binance_data / "funding" / f"{base}USDT.csv")
        import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_1d_perp" / f"{base}USDT.csv", "1d")
    store.upsert_markets("binanceusdm", real_markets(binance_data), now)
    config = PlanConfig(capital=20_000.0, universe_size=6, neutral_count=3)
    inputs = asyncio.run(load_plan_inputs(None, store, "binanceusdm", config, FrozenClock(now)))
    assert any("volume" in n and "cached bars" in n for n in inputs.notes)
    assert len(inputs.closes) == len(REAL)
    plan = build_plan(inputs, config)
    assert len({x.symbol for x in plan.neutral}) >= 2, plan.notes
    assert plan.directional, plan.notes
    assert plan.regime.state != "unknown" and plan.regime.median_vol is not None
    for x in plan.neutral:  # March 2024: funding well above the costs, shorts on the perp earn it
        assert (x.leg, x.side) in (("spot", "long"), ("perp", "short"))
        if x.leg == "perp":
            assert x.expected_return >= 0.05  # type: ignore[operator]
    assert plan.funding_per_day > 0
    assert 0 < plan.volatility < 1  # type: ignore[operator]
