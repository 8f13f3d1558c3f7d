"""``--ledger DIR``: the three CSV files with the issue's columns, ISO UTC times, and numbers that give
back the run exactly: the final equity is rebuilt from the files alone."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from perptui.domain.backtest.engine import run_backtest
from perptui.domain.backtest.types import Costs, Schedule
from perptui.domain.errors import UsageError
from perptui.services.backtest_ledger import write_ledgers
from tests.backtest_data import always, book, hand_history


def carry_and_long_run():
    """Two layers: a BTC carry (short perp, long spot) through two prints, and an ETH long."""
    t0 = 1_609_459_200_000
    h = hand_history(
        ["BTC/USDT:USDT", "ETH/USDT:USDT"],
        [[100.0, 10.0], [110.0, 11.0], [105.0, 9.0], [120.0, 12.0], [118.0, 12.5]],
        spot_open=[[100.0, np.nan], [109.0, np.nan], [106.0, np.nan], [119.0, np.nan], [117.0, np.nan]],
        funding=[(t0 + 8 * 3_600_000 * 2, 0, 0.0003), (t0 + 8 * 3_600_000 * 3, 0, -0.0001)],
    )
    layers = [
        (always(book([-0.5, 0.0], spot=[0.5, 0.0]), "neutral"), 6000.0),
        (always(book([0.0, 1.5], leverage=[1.0, 3.0]), "directional"), 4000.0),
    ]
    return h, run_backtest(h, layers, costs=Costs(0.0005, 0.001, 0.0002), schedule=Schedule(every_bars=2))


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_ledgers_have_the_issue_columns_and_rebuild_the_final_equity(tmp_path: Path) -> None:
    history, result = carry_and_long_run()
    paths = write_ledgers(result, tmp_path / "run")
    assert [p.name for p in paths] == ["fills.csv", "funding.csv", "equity.csv"]
    headers = [p.read_text().splitlines()[0].split(",") for p in paths]
    assert headers[0][:7] == ["time", "symbol", "leg", "side", "qty", "price", "fee"]
    assert headers[1][:6] == ["time", "symbol", "qty", "mark", "rate", "amount"]
    assert headers[2] == ["time", "equity", "neutral", "directional"]

    fills, funding, equity = (read(p) for p in paths)
    assert fills and funding and all(row["time"].endswith("Z") and "T" in row["time"] for row in fills)
    assert {row["leg"] for row in fills} == {"perp", "spot"}
    # funding: qty signed (the carry is short), amount = -qty x mark x rate
    for row in funding:
        assert float(row["qty"]) < 0
        assert float(row["amount"]) == pytest.approx(
            -float(row["qty"]) * float(row["mark"]) * float(row["rate"]), rel=1e-15
        )
    # the identity from the files alone: capital + price PnL + funding - fees
    held: dict[tuple[str, str], float] = {}
    cash_flow = 0.0
    for row in fills:
        q = float(row["qty"]) * (1 if row["side"] == "buy" else -1)
        held[(row["symbol"], row["leg"])] = held.get((row["symbol"], row["leg"]), 0.0) + q
        cash_flow -= q * float(row["price"])
    column = {s: j for j, s in enumerate(history.symbols)}
    last = {"perp": history.close[-1], "spot": history.spot_close[-1]}
    open_value = sum(q * last[leg][column[sym]] for (sym, leg), q in held.items() if abs(q) > 1e-12)
    price_pnl = cash_flow + open_value
    funding_pnl = sum(float(row["amount"]) for row in funding)
    fees = sum(float(row["fee"]) for row in fills)
    final = float(equity[-1]["equity"])
    assert final == pytest.approx(10_000.0 + price_pnl + funding_pnl - fees, rel=1e-12)
    assert final == float(result.equity[-1])  # written without losing a digit
    assert float(equity[-1]["neutral"]) + float(equity[-1]["directional"]) == pytest.approx(final, rel=1e-15)
    assert len(equity) == len(result.times)


def test_an_unwritable_folder_is_one_line_and_leaves_no_partial_file(tmp_path: Path) -> None:
    _, result = carry_and_long_run()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write the ledgers"):
        write_ledgers(result, blocker / "run")
    assert list(tmp_path.iterdir()) == [blocker]
