"""Auto leverage on real Binance listings (../shared/data/binance, skipped when absent): the lowest
whole leverage at which the FINAL quantity fits, after the maximum quantity and the brackets.

Markets: LOT_SIZE (step, minimum, maximum quantity), PRICE_FILTER (tick) and MIN_NOTIONAL of
exchangeInfo 2022-05-04, the brackets of 2024-10-24, Binance's 0.05% taker fee, entries at real 8h
closes. Before the fix the leverage was sized for the risk quantity before the maximum quantity cut it:
ADA got 6x and ATOM 5x where 4x and 3x carry the position.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from perptui.domain.sizing import SizingRequest, size_position
from perptui.domain.types import Market
from tests.test_liquidation import binance_tiers

EXCHANGE_INFO = "exchange_info_2022-05-04.json"
EQUITY = 172_981.0


def listed(data: Path, base: str) -> Market:
    info = json.loads((data / EXCHANGE_INFO).read_text())
    entry = next(s for s in info["symbols"] if s["symbol"] == f"{base}USDT")
    f = {x["filterType"]: x for x in entry["filters"]}
    return Market(
        "binanceusdm", f"{base}/USDT:USDT", f"{base}USDT", base, "USDT", "USDT",
        amount_step=float(f["LOT_SIZE"]["stepSize"]), price_tick=float(f["PRICE_FILTER"]["tickSize"]),
        min_qty=float(f["LOT_SIZE"]["minQty"]), max_qty=float(f["LOT_SIZE"]["maxQty"]),
        min_notional=float(f["MIN_NOTIONAL"]["notional"]), taker_fee=0.0005, maker_fee=0.0002,
        tiers=binance_tiers(data, f"{base}/USDT:USDT"),
    )  # fmt: skip


def close_at(data: Path, base: str, when: str) -> float:
    for line in (data / "ohlcv_8h_perp" / f"{base}USDT.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        if cells[1] == when:
            return float(cells[5])
    raise AssertionError(f"no {base} bar at {when}")


def old_auto_leverage(q_risk: float, entry: float) -> float:
    """What auto leverage picked before: sized for the risk quantity, before the caps."""
    room = EQUITY / (q_risk * entry) - 0.0005
    return float(max(1, math.ceil(1 / room - 1e-9)))


def test_ada_short_capped_at_two_million_gets_4x_not_6x(binance_data: Path) -> None:
    """ADA short at 0.3336 (close of 2024-09-18 00:00), stop 0.3339, 1% of 172,981. Loss per unit
    0.0003 + 0.3336 x 0.0005 + 0.3339 x 0.0005 = 0.00063375: the risk asks for 2,729,483 ADA (910,555 of
    notional: 6x before), but ADAUSDT takes at most 2,000,000 (667,200). 3x needs 222,400 + 333.60 of
    fee, more than the equity; 4x needs 166,800 + 333.60 = 167,133.60: 4x (5x fits too)."""
    ada = listed(binance_data, "ADA")
    assert (ada.max_qty, ada.amount_step, ada.price_tick) == (2_000_000.0, 1.0, 0.0001)
    entry = close_at(binance_data, "ADA", "2024-09-18 00:00")
    assert entry == 0.3336
    r = size_position(
        SizingRequest(market=ada, side="short", entry=entry, stop=0.3339, equity=EQUITY, risk_fraction=0.01)
    )
    assert r.limits["risk"] == pytest.approx(1_729.81 / 0.00063375)
    assert old_auto_leverage(r.limits["risk"], entry) == 6.0  # type: ignore[arg-type]
    assert r.leverage_auto and r.leverage == 4.0
    assert r.quantity == 2_000_000.0 and r.binding_constraint == "max_qty"
    assert r.initial_margin + r.fee_entry_usd == pytest.approx(167_133.60)
    assert 2_000_000 * entry * (1 / 3 + 0.0005) > EQUITY


def test_atom_long_capped_at_100k_gets_3x_not_5x(binance_data: Path) -> None:
    """ATOM long at 4.231 (close of 2024-09-18 00:00), stop 4.226, 1% of 172,981. Loss per unit
    0.005 + 4.231 x 0.0005 + 4.226 x 0.0005 = 0.0092285: the risk asks for 187,442 ATOM (793,067 of
    notional: 5x before), ATOMUSDT takes at most 100,000 (423,100). 2x needs 211,550 + 211.55; 3x needs
    141,033.33 + 211.55 = 141,244.88: 3x."""
    atom = listed(binance_data, "ATOM")
    assert (atom.max_qty, atom.amount_step) == (100_000.0, 0.01)
    entry = close_at(binance_data, "ATOM", "2024-09-18 00:00")
    assert entry == 4.231
    r = size_position(
        SizingRequest(market=atom, side="long", entry=entry, stop=4.226, equity=EQUITY, risk_fraction=0.01)
    )
    assert r.limits["risk"] == pytest.approx(1_729.81 / 0.0092285)
    assert old_auto_leverage(r.limits["risk"], entry) == 5.0  # type: ignore[arg-type]
    assert r.leverage == 3.0 and r.quantity == 100_000.0 and r.binding_constraint == "max_qty"
    assert r.initial_margin + r.fee_entry_usd == pytest.approx(141_244.8833, abs=0.01)


def test_arb_a_bracket_cap_sizes_the_final_quantity(binance_data: Path) -> None:
    """ARB (no exchangeInfo in the data: listed in 2023; its real 2024 brackets, no step) short at 0.5204,
    stop 0.5206, 2% of 172,981: the risk asks for 4,801,693 ARB (2,498,801 of notional, a 5x bracket).
    At 5x the margin buys 1,657,866 ARB; 6x to 10x allow 2,000,000 of notional and at 10x the margin
    buys 3,307,589 ARB (1,721,270); from 11x the brackets cap it at 600,000. The final quantity is the
    largest any leverage gives, at the lowest leverage that gives it: 10x, not the 5x of the bracket
    of the uncapped size (half the position for the same risk budget)."""
    arb = Market(
        "binanceusdm", "ARB/USDT:USDT", "ARBUSDT", "ARB", "USDT", "USDT", taker_fee=0.0005,
        tiers=binance_tiers(binance_data, "ARB/USDT:USDT"),
    )  # fmt: skip
    entry = close_at(binance_data, "ARB", "2024-09-18 00:00")
    assert entry == 0.5204
    r = size_position(
        SizingRequest(market=arb, side="short", entry=entry, stop=0.5206, equity=EQUITY, risk_fraction=0.02)
    )
    assert r.limits["risk"] * entry == pytest.approx(2_498_801, rel=1e-6)
    assert r.leverage == 10.0 and r.binding_constraint == "margin"
    assert r.quantity == pytest.approx(EQUITY / (entry * (0.1 + 0.0005)), rel=1e-9)
    five = size_position(
        SizingRequest(market=arb, side="short", entry=entry, stop=0.5206, equity=EQUITY, risk_fraction=0.02,
                      leverage=5)
    )  # fmt: skip
    eleven = size_position(
        SizingRequest(market=arb, side="short", entry=entry, stop=0.5206, equity=EQUITY, risk_fraction=0.02,
                      leverage=11)
    )  # fmt: skip
    assert five.quantity < r.quantity and eleven.quantity * entry == pytest.approx(600_000, rel=1e-9)
