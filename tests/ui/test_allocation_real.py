"""The allocation pane on cached real Binance data (../shared/data/binance imported into the cache),
offline, at 2024-03-15: a plan with a neutral base earning funding and a directional layer."""

from __future__ import annotations

from pathlib import Path

from perptui.config.settings import Settings
from perptui.domain.timeframes import parse_utc
from perptui.services.clock import FrozenClock
from perptui.services.importers import import_funding, import_ohlcv
from perptui.services.sources import open_market_data
from perptui.services.store import Store
from perptui.ui.factory import build_app
from perptui.ui.screenshots import open_plan
from tests.test_allocation_service import REAL, real_markets
from tests.ui.helpers import sync


@sync
async def test_a_plan_from_cached_real_data_offline(binance_data: Path) -> None:
    now = parse_utc("2024-03-15")
    store = Store.open(":memory:")
    for base in REAL:
        import_funding(store, "binanceusdm", binance_data / "funding" / f"{base}USDT.csv")
        import_ohlcv(store, "binanceusdm", binance_data / "ohlcv_1d_perp" / f"{base}USDT.csv", "1d")
    store.upsert_markets("binanceusdm", real_markets(binance_data), now)
    settings = Settings.model_validate(
        {"exchange": "binanceusdm", "offline": True, "plan": {"universe_size": 6, "neutral_count": 3}}
    )
    source = open_market_data(settings, store)
    app = build_app(settings, source=source, store=store, clock=FrozenClock(now))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_plan(pilot)
        plan = pane.plan
        assert plan.config.capital == settings.paper.starting_capital
        assert {leg.symbol for leg in plan.neutral} and plan.directional, plan.notes
        assert all((leg.leg, leg.side) in (("spot", "long"), ("perp", "short")) for leg in plan.neutral)
        assert plan.funding_per_day > 0
        assert len(pane.table.keys_in_order()) == len(plan.neutral) + len(plan.directional)
