"""``PaperEngine.rehearse``: an action played on the ledger and undone, so the UI can say what the engine
would refuse (or warn about) before it asks for a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from perptui.domain.errors import UsageError
from perptui.services.clock import FrozenClock
from perptui.services.paper import OrderRequest
from perptui.services.store import Store
from perptui.services.store.risk_events import BREAKER_TRIP, log_event
from tests.conftest import FROZEN_NOW_MS
from tests.test_paper_engine import BTC, ETH, flows, make_engine


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "cache.db") as s:
        yield s


def test_a_rehearsed_order_returns_what_it_would_do_and_records_nothing(store: Store) -> None:
    engine = make_engine(store, FrozenClock(FROZEN_NOW_MS))
    before = flows(engine)
    stop_past_liq = OrderRequest(BTC, "long", 0.1, leverage=50, stop=50_000.0, mark=60_000.0)
    result = engine.rehearse(lambda: engine.place_order(stop_past_liq))
    assert result.fills and "lies beyond the liquidation price" in result.warnings[0]
    assert engine.positions() == [] and engine.orders(open_only=False) == [] and flows(engine) == before
    # A sequence sees its own earlier steps, and is undone whole.
    opened = engine.rehearse(
        lambda: [
            engine.place_order(OrderRequest(ETH, "long", 1, leverage=2, mark=3_000.0)),
            engine.close(ETH),
        ]
    )
    assert opened[1].position is None and engine.positions() == [] and flows(engine) == before
    # The real order afterwards goes through as rehearsed.
    placed = engine.place_order(stop_past_liq)
    assert placed.warnings == result.warnings and len(engine.positions()) == 1


def test_a_rehearsal_raises_the_refusal_the_order_would_meet(store: Store) -> None:
    clock = FrozenClock(FROZEN_NOW_MS)
    engine = make_engine(store, clock, capital=1_000.0)
    with pytest.raises(UsageError, match="margin"):
        engine.rehearse(lambda: engine.place_order(OrderRequest(BTC, "long", 1, leverage=2, mark=60_000.0)))
    with store.writing() as conn:
        log_event(conn, engine.account.name, clock.now_ms(), BREAKER_TRIP, "critical", "loss limit hit")
    with pytest.raises(UsageError, match="circuit breaker"):
        engine.rehearse(lambda: engine.place_order(OrderRequest(ETH, "long", 0.1, mark=3_000.0)))
    assert engine.orders(open_only=False) == []
