"""Several take-profits per paper position, moving and trailing the stop: the engine, the schema
migration and ``perptui paper order --tp ... / paper stop``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from perptui.domain.errors import UsageError
from perptui.domain.paper import TakeProfitLevel, TakeProfitTarget, Trail, split_targets
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store, latest_version
from tests.cli_helpers import run_json
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_accounts import as_version_3
from tests.test_paper_cli import db, run_error  # noqa: F401  (the CLI tests' fixture)
from tests.test_paper_engine import BTC, make_engine


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FROZEN_NOW_MS)


def test_targets_split_the_quantity_on_the_step_and_the_last_takes_the_rest() -> None:
    targets = (TakeProfitTarget(110, 0.33), TakeProfitTarget(120, 0.33), TakeProfitTarget(130, 0.33))
    assert split_targets(targets, 0.1, 0.001) == (
        TakeProfitLevel(110, 0.033), TakeProfitLevel(120, 0.033), TakeProfitLevel(130, 0.034),
    )  # fmt: skip
    # A share smaller than one step places nothing at that level; the rest still goes to the last.
    assert split_targets((TakeProfitTarget(110, 0.001), TakeProfitTarget(120, 0.999)), 0.5, 0.01) == (
        TakeProfitLevel(120, 0.5),
    )


def test_each_level_closes_its_share_when_the_mark_crosses_it(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.0)
    targets = (TakeProfitTarget(41_000, 0.25), TakeProfitTarget(42_000, 0.25), TakeProfitTarget(43_000, 0.5))
    r = engine.place_order(
        OrderRequest(BTC, "long", 0.4, leverage=10, stop=39_000, take_profits=targets, mark=40_000)
    )
    assert r.position is not None and r.position.take_profits == (
        TakeProfitLevel(41_000, 0.1), TakeProfitLevel(42_000, 0.1), TakeProfitLevel(43_000, 0.2),
    )  # fmt: skip
    clock.advance(1_000)
    # One move through two levels: both fill, nearest first, each for its own quantity.
    events = engine.on_marks({BTC: 42_500})
    assert [(e.kind, e.fills[0].qty, e.fills[0].price) for e in events] == [
        ("take_profit", 0.1, 41_000), ("take_profit", 0.1, 42_000),
    ]  # fmt: skip
    fee = events[0].fills[0].fee
    assert fee == pytest.approx(0.0005 * 0.1 * 41_000)  # the taker fee, as any stop or take-profit
    assert events[0].fills[0].realized_pnl == pytest.approx(0.1 * 1_000)
    pos = engine.position(BTC)
    assert pos is not None and pos.qty == 0.2 and pos.take_profits == (TakeProfitLevel(43_000, 0.2),)
    assert pos.stop == 39_000  # the stop still covers what is left


def test_a_partial_close_trims_the_farthest_levels_first(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.0)
    targets = (TakeProfitTarget(41_000, 0.5), TakeProfitTarget(42_000, 0.5))
    engine.place_order(OrderRequest(BTC, "long", 0.4, leverage=10, take_profits=targets, mark=40_000))
    engine.close(BTC, 0.3, mark=40_100)
    pos = engine.position(BTC)
    assert pos is not None and pos.take_profits == (TakeProfitLevel(41_000, 0.1),)


def test_stops_move_to_a_price_breakeven_or_none(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.0)
    engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, mark=40_000))
    with pytest.raises(UsageError, match="below the mark"):
        engine.set_stop(BTC, "breakeven")  # the mark is at the entry: a stop there triggers at once
    engine.on_marks({BTC: 41_000})
    pos, _ = engine.set_stop(BTC, "breakeven")
    assert pos.stop == 40_000
    with pytest.raises(UsageError, match="tick"):
        engine.set_stop(BTC, 40_500.05)  # off the 0.1 tick: refused by the market rules
    pos, _ = engine.set_stop(BTC, None)
    assert pos.stop is None


def test_a_trailing_stop_follows_the_mark_toward_profit_only(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.0)
    engine.place_order(OrderRequest(BTC, "long", 0.1, leverage=10, mark=40_000))
    pos, _ = engine.set_trail(BTC, Trail("pct", 0.02, "2%"))
    assert pos.stop == 39_200
    clock.advance(1_000)
    engine.on_marks({BTC: 41_000})
    assert engine.position(BTC).stop == 40_180  # type: ignore[union-attr]
    clock.advance(1_000)
    engine.on_marks({BTC: 40_500})  # a fall never lowers it
    assert engine.position(BTC).stop == 40_180  # type: ignore[union-attr]
    clock.advance(1_000)
    (event,) = engine.on_marks({BTC: 40_000})
    assert event.kind == "stop" and event.fills[0].price == 40_180 and engine.position(BTC) is None


def test_a_short_trails_down_by_a_price_distance(store: Store, clock: FrozenClock) -> None:
    engine = make_engine(store, clock, slippage=0.0)
    engine.place_order(OrderRequest(BTC, "short", 0.1, leverage=10, mark=40_000))
    engine.set_trail(BTC, Trail("distance", 600.0, "1.5atr"))
    clock.advance(1_000)
    engine.on_marks({BTC: 39_000})
    pos = engine.position(BTC)
    assert pos is not None and pos.stop == 39_600 and pos.trail == Trail("distance", 600.0, "1.5atr")


def test_version_5_turns_a_single_take_profit_into_one_level(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    clock = FrozenClock(FROZEN_NOW_MS)
    with Store.open(path) as store:
        make_engine(store, clock).place_order(OrderRequest(BTC, "long", 0.2, leverage=10, mark=40_000))
    conn = sqlite3.connect(path)
    as_version_3(conn)
    conn.execute("UPDATE paper_positions SET take_profit = 45000")
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == latest_version()
        pos = make_engine(store, clock).position(BTC)
        assert pos is not None and pos.take_profits == (TakeProfitLevel(45_000, 0.2),) and pos.trail is None


# --- the CLI ----------------------------------------------------------------------------------------


def test_cli_places_several_take_profits_and_moves_the_stop(db: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    order = run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.1",
                     "--leverage", "5", "--json")  # fmt: skip
    mark = order["fills"][0]["mark"]
    run_json(capsys, "paper", "close", "BTC", "--json")
    tp1, tp2 = round(mark * 1.02, 1), round(mark * 1.05, 1)
    order = run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.1",
                     "--leverage", "5", "--tp", f"{tp1}:40%", "--tp", str(tp2), "--json")  # fmt: skip
    assert order["order"]["take_profits"] == [{"price": tp1, "share": 0.4}, {"price": tp2, "share": 0.6}]
    data = run_json(capsys, "paper", "positions", "--json")
    (row,) = data["positions"]
    assert row["take_profits"] == [{"price": tp1, "qty": 0.04}, {"price": tp2, "qty": 0.06}]
    assert row["stop"] is None
    stop = round(mark * 0.97, 1)
    moved = run_json(capsys, "paper", "stop", "BTC", str(stop), "--json")
    assert moved["stop"] == stop and moved["risk_at_stop"] > 0
    risk = run_json(capsys, "risk", "--json")
    (position,) = risk["positions"]
    assert position["stop"] == stop and position["take_profits"] == row["take_profits"]
    trailed = run_json(capsys, "paper", "stop", "BTC", "--trail", "2%", "--json")
    assert trailed["trail"]["label"] == "2%" and trailed["stop"] >= stop


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--tp", "100:abc"), "share must be a percent above 0"),
        (("--tp", "100:150%"), "at most 100"),
        (("--tp", "100:60", "--tp", "110:60"), "add up to 120%"),
    ],
)
def test_bad_take_profits_are_one_line_and_exit_2(
    db: Path,  # noqa: F811
    capsys: pytest.CaptureFixture,
    argv: tuple[str, ...],
    message: str,
) -> None:
    code, line = run_error(
        capsys, "paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.1", *argv, "--yes"
    )
    assert code == 2 and message in line, line


def test_bad_stops_are_one_line_and_exit_2(db: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    code, line = run_error(capsys, "paper", "stop", "BTC", "--trail", "2x")
    assert code == 2 and "a percent like 2% or an ATR multiple like 1.5atr" in line
    code, line = run_error(capsys, "paper", "stop", "BTC", "soon")
    assert code == 2 and "breakeven, or none" in line
    code, line = run_error(capsys, "paper", "stop", "BTC")
    assert code == 2 and "PRICE, breakeven or none" in line


def test_the_risk_table_shows_how_many_take_profits_and_the_next() -> None:
    from perptui.domain.risk_position import PositionInput, position_risk
    from perptui.ui.panes.risk.columns import SPECS, take_profits_text

    short = PositionInput(
        "BTC", "short", 0.3, 40_000, 39_000, 10, "isolated", 1_200, stop=41_000, stop_known=True,
        take_profits=((37_000.0, 0.1), (38_000.0, 0.1), (36_000.0, 0.1)), price_tick=0.1,
    )  # fmt: skip
    risk = position_risk(short)
    assert take_profits_text(risk) == "3 · 38,000.0"  # a short's next target is the highest below
    assert risk.stop == 41_000
    assert take_profits_text(position_risk(PositionInput("BTC", "long", 1, 1, 1, 1, "cross", 1))) == "—"
    keys = [s.key for s in SPECS]
    assert keys.index("tps") == keys.index("stop") + 1


def test_cli_trails_by_an_atr_multiple_of_the_demo_bars(db: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    run_json(capsys, "paper", "order", "--symbol", "BTC", "--side", "short", "--qty", "0.03",
             "--leverage", "3", "--json")  # fmt: skip
    data = run_json(capsys, "paper", "stop", "BTC", "--trail", "1.5atr", "--json")
    trail = data["trail"]
    assert (trail["kind"], trail["label"]) == ("distance", "1.5atr") and trail["value"] > 0
    # A short's stop above the mark by the distance (on the tick, toward the mark).
    assert data["stop"] == pytest.approx(data["mark"] + trail["value"], abs=0.1)
    off = run_json(capsys, "paper", "stop", "BTC", "--trail", "off", "--json")
    assert off["trail"] is None and off["stop"] == data["stop"]  # the stop stays where the trail left it
