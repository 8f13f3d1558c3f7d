"""The sizing pane says the paper account's circuit breaker is tripped beside the sized trade, before
the trader reaches for `o` (which is then refused at once, with no confirmation)."""

from __future__ import annotations

from textual.widgets import Static

from perptui.services.store.risk_events import log_event
from tests.ui.helpers import settle, sync
from tests.ui.test_sizing_flows import SIZE, fill, open_pane


def warnings_shown(pane) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(s.content) for s in pane.query(".size-warning").results(Static) if s.display]


@sync
async def test_a_tripped_breaker_shows_on_the_sizing_pane_before_any_order(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await fill(pilot, "stop", "2")
        assert not any("circuit breaker" in w for w in warnings_shown(pane))
        engine = app.ctx.paper_engine()
        with engine.store.writing() as conn:
            log_event(
                conn, engine.account.name, engine.now(), "breaker_trip", "critical", "daily loss limit hit"
            )
        pane.refresh_data()  # the pane's next poll
        await settle(pilot)
        [shown] = [w for w in warnings_shown(pane) if "circuit breaker" in w]
        assert shown.startswith("✖ circuit breaker TRIPPED until") and "daily loss limit hit" in shown
        assert "new orders are refused" in shown
