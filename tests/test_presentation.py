"""The wording the CLI and the panes share: a position's row at its market's tick and step, the paper
engine's messages at the tick, money that is never ``-0.00``, and no Textual in the package."""

from __future__ import annotations

import re
import subprocess
import sys

from perptui.domain.paper import PaperPosition
from perptui.domain.risk_position import PositionInput, position_risk
from perptui.domain.types import LeverageTier, Market
from perptui.presentation import numbers as fmt
from perptui.presentation.risk import liq_text, position_row
from perptui.services.paper.orders import position_text

TIERS = (LeverageTier(0.0, 1e9, 0.01, 0.0, 50.0),)


def _risk(entry: float, qty: float, tick: float | None, step: float | None) -> tuple[str, ...]:
    wallet = qty * entry / 10  # 10x isolated
    pos = PositionInput(
        "X/USDT:USDT", "long", qty, entry, entry, 10.0, "isolated", wallet, TIERS,
        price_tick=tick, amount_step=step,
    )  # fmt: skip
    return position_row(position_risk(pos))


def test_a_risk_row_shows_prices_at_the_tick_and_the_quantity_at_the_step() -> None:
    """The risk pane and ``perptui risk`` used to show 85,913.487 and a liquidation of 0.085722802."""
    row = _risk(85_913.487, 0.05, 0.1, 0.001)
    assert row[2:5] == ("0.050", "85,913.5", "85,913.5")
    assert re.fullmatch(r"\d{2},\d{3}\.\d", row[7]), row[7]  # the liquidation price, one decimal
    cheap = _risk(0.0952476, 1_000_000.0, 0.000001, 1.0)
    assert cheap[2:5] == ("1,000,000", "0.095248", "0.095248")
    assert re.fullmatch(r"0\.\d{6}", cheap[7]), cheap[7]


def test_without_a_tick_the_row_keeps_significant_digits() -> None:
    row = _risk(85_913.487, 0.05, None, None)
    assert row[2:5] == ("0.05", "85,913.5", "85,913.5")
    p = position_risk(PositionInput("X", "long", 1.0, 0.085722802, 0.085722802, 1.0, "isolated", 0.09, TIERS))
    assert liq_text(p) == "never"


def test_paper_messages_name_prices_at_the_tick() -> None:
    market = Market("demo", "X/USDT:USDT", "XUSDT", "X", "USDT", "USDT", amount_step=0.001, price_tick=0.1)
    pos = PaperPosition(
        exchange="demo", symbol="X/USDT:USDT", side="long", qty=0.05, entry=85_913.487, leverage=10.0,
        margin_mode="isolated", isolated_margin=430.0, opened_at=0, stop=84_000.04,
    )  # fmt: skip
    assert position_text(pos, market) == "position long 0.050 @ 85,913.5, 10x isolated, stop 84,000.0"
    assert position_text(pos, None) == "position long 0.05 @ 85,913.5, 10x isolated, stop 84,000"


def test_money_and_percents_never_show_a_negative_zero() -> None:
    assert fmt.money(-0.001) == "0.00" and fmt.money(-0.001, signed=True) == "+0.00"
    assert fmt.pct(-0.00001) == "0.00%"
    assert fmt.money(1e12, "USDT") == "1,000,000,000,000.00 USDT"  # every digit, never cut
    assert fmt.money(None) == fmt.UNKNOWN == "—"


def test_the_presentation_package_imports_no_textual_and_no_io() -> None:
    script = (
        "import sys, pkgutil, perptui.presentation as p\n"
        "for m in pkgutil.walk_packages(p.__path__, 'perptui.presentation.'): __import__(m.name)\n"
        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for forbidden in ("textual", "rich", "sqlite3", "ccxt", "aiohttp", "platformdirs"):
        assert forbidden not in loaded, forbidden
