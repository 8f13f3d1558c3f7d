"""Markets that trade in contracts: OKX's BTC-USDT-SWAP (0.01 BTC a contract, a lot of 0.01 contracts)
and Gate's BTC_USDT (0.0001 BTC a contract, whole contracts). The calculator sizes whole lots, the ticket
and ``size --json`` say how many contracts that is, and neither the market rules nor the paper engine
refuse anything the ticket offers.

Contract sizes and lots: OKX GET /api/v5/public/instruments (ctVal 0.01, lotSz 0.01, minSz 0.01),
Gate GET /api/v4/futures/usdt/contracts (quanto_multiplier 0.0001, order_size_min 1), as ccxt maps them
(``precision.amount`` and ``limits.amount.min`` in contracts) and ``ccxt_convert.market_from_ccxt``
scales them to base units.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.market_rules import check_qty, contract_lot, in_contracts, on_grid
from perptui.domain.sized_order import sized_order, sized_order_refusal
from perptui.domain.sizing import SizingRequest, size_position
from perptui.domain.types import LeverageTier, Market
from perptui.presentation.ticket import ticket_lines
from perptui.services.accounts import PaperAccount
from perptui.services.clock import FrozenClock
from perptui.services.exchanges.ccxt_convert import market_from_ccxt
from perptui.services.paper import PaperConfig, PaperEngine
from perptui.services.store import Store
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import NO_BREAKER

TIERS = (LeverageTier(0, 500_000, 0.004, 0.0, 100), LeverageTier(500_000, math.inf, 0.01, 3_000.0, 50))


def raw(symbol: str, contract_size: float, lot: float, min_contracts: float) -> dict:
    """A ccxt market as ccxt builds it from the exchange's instrument list (amounts in contracts)."""
    return {
        "symbol": symbol, "id": symbol, "base": "BTC", "quote": "USDT", "settle": "USDT", "swap": True,
        "linear": True, "contract": True, "contractSize": contract_size, "active": True,
        "precision": {"amount": lot, "price": 0.1}, "taker": 0.0005, "maker": 0.0002,
        "limits": {"amount": {"min": min_contracts, "max": None}, "cost": {}, "leverage": {"max": 100}},
    }  # fmt: skip


def venue_market(exchange: str, contract_size: float, lot: float) -> Market:
    # precision mode TICK_SIZE (4): the amount precision is the lot itself, as ccxt reports OKX and Gate.
    return market_from_ccxt(
        raw("BTC/USDT:USDT", contract_size, lot, lot), exchange=exchange, precision_mode=4, tiers=list(TIERS)
    )


OKX = venue_market("okx", 0.01, 0.01)
GATE = venue_market("gate", 0.0001, 1.0)


def test_the_markets_are_built_in_base_units_with_the_lot_in_contracts() -> None:
    okx = (OKX.contract_size, OKX.amount_step, OKX.min_qty, contract_lot(OKX))
    gate = (GATE.contract_size, GATE.amount_step, GATE.min_qty, contract_lot(GATE))
    assert okx == (0.01, 0.0001, 0.0001, 0.01) and gate == (0.0001, 0.0001, 0.0001, 1)
    assert in_contracts(0.037, OKX) == 3.7 and in_contracts(0.0123, GATE) == 123


def request(m: Market, equity: float, entry: float, stop_pct: float, risk: float = 0.01) -> SizingRequest:
    return SizingRequest(
        market=m, side="long", entry=entry, stop=round(entry * (1 - stop_pct), 1), equity=equity,
        risk_fraction=risk, leverage=None,
    )  # fmt: skip


def test_the_okx_ticket_and_json_give_the_contracts() -> None:
    r = size_position(request(OKX, 10_000.0, 60_000.0, 0.02))
    assert r.tradable and on_grid(r.quantity, OKX.amount_step)
    contracts = in_contracts(r.quantity, OKX)
    assert on_grid(contracts, 0.01) and contracts == pytest.approx(r.quantity / 0.01)
    lines = dict(line.split("  ", 1) for line in ticket_lines(r, 0.1, OKX.amount_step, "USDT", 0.01))
    assert lines["Contracts"].strip() == f"{contracts:.2f} x 0.01"
    # A market of contract size 1 (Binance) has no such line: its quantity is its contracts.
    plain = ticket_lines(r, 0.1, 0.001, "USDT")
    assert not any(line.startswith("Contracts") for line in plain)


def test_gate_sizes_whole_contracts() -> None:
    r = size_position(request(GATE, 2_500.0, 60_000.0, 0.015))
    assert r.tradable
    contracts = in_contracts(r.quantity, GATE)
    assert contracts == int(contracts) > 0
    lines = dict(line.split("  ", 1) for line in ticket_lines(r, 0.1, GATE.amount_step, "USDT", 0.0001))
    assert lines["Contracts"].strip() == f"{int(contracts)} x 0.0001"


@settings(max_examples=150, deadline=None)
@given(
    market=st.sampled_from([OKX, GATE]),
    equity=st.floats(200, 200_000),
    entry=st.floats(5_000, 150_000),
    stop_pct=st.floats(0.002, 0.2),
    risk=st.floats(0.001, 0.03),
)
def test_the_market_rules_refuse_nothing_the_ticket_offers(
    market: Market, equity: float, entry: float, stop_pct: float, risk: float
) -> None:
    entry = round(entry, 1)
    r = size_position(request(market, equity, entry, stop_pct, risk))
    if not r.tradable:
        return
    assert on_grid(r.quantity, market.amount_step)  # whole lots
    assert on_grid(in_contracts(r.quantity, market), contract_lot(market))
    assert check_qty(market, r.quantity, entry) is None
    for limit in (False, True):
        assert sized_order_refusal(r, market, limit=limit, mark=entry) is None


@pytest.mark.parametrize("market", [OKX, GATE], ids=["okx", "gate"])
def test_the_paper_engine_fills_the_ticket(market: Market, tmp_path: Path) -> None:
    with Store.open(tmp_path / "cache.db") as store:
        account = PaperAccount(
            store, FrozenClock(FROZEN_NOW_MS), starting_capital=10_000.0, risk_pct=0.01, neutral_pct=0.7,
            directional_pct=0.3, exchange=market.exchange,
        )  # fmt: skip
        engine = PaperEngine(
            account,
            exchange=market.exchange,
            config=PaperConfig(slippage=0.0, limits=NO_BREAKER),
            markets=[market],
        )
        r = size_position(request(market, 10_000.0, 60_000.0, 0.02))
        engine.place_order(sized_order(r, market, limit=False, mark=60_000.0))
        (position,) = engine.positions()
        assert position.qty == pytest.approx(r.quantity)
        assert in_contracts(position.qty, market) == in_contracts(r.quantity, market)


def test_the_sizing_panes_quantity_says_the_contracts() -> None:
    """The pane's Position card: ``0.0370 BTC · 3.70 ct`` on OKX; on a coin-sized contract no count."""
    import asyncio

    from textual.app import App, ComposeResult

    from perptui.ui.panes.sizing.position import PositionCard

    class CardApp(App[None]):
        def compose(self) -> ComposeResult:
            yield PositionCard()

    r = size_position(request(OKX, 10_000.0, 60_000.0, 0.02))

    async def scenario() -> tuple[str, str]:
        app = CardApp()
        async with app.run_test(size=(80, 24)) as pilot:
            card = app.query_one(PositionCard)
            card.show(r, OKX, private=False)
            await pilot.pause()
            okx = str(card.stat("quantity").value)
            card.show(r, replace(OKX, contract_size=1.0), private=False)
            await pilot.pause()
            return okx, str(card.stat("quantity").value)

    okx, plain = asyncio.run(scenario())
    count = in_contracts(r.quantity, OKX)
    assert okx == f"{r.quantity:.4f} BTC · {count:.2f} ct"
    assert plain == f"{r.quantity:.4f} BTC"
