"""The risk pane shows a carry pair as one hedged row: the net exposure, not the legs' gross, in its row
and in the portfolio; the close keys point at the pair's own command (its legs go together)."""

from __future__ import annotations

import asyncio

from perptui.ui.screenshots import open_risk, open_sample_pair
from tests.ui.helpers import notifications, settle, sync

SIZE = (120, 40)
BTC = "BTCDEMO/USDT:USDT"


@sync
async def test_a_pair_is_one_hedged_row_and_counts_its_net_exposure(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await asyncio.to_thread(open_sample_pair, app, BTC, 0.05)
        pane = await open_risk(pilot, sample=False)
        assert pane.table.keys_in_order() == [f"pair:{BTC}"]
        report = pane.report
        (row,) = report.portfolio.pairs
        assert row.net_delta == 0 and row.perp is not None and row.perp.side == "short"
        assert report.portfolio.gross_exposure < 0.01 * row.perp.notional  # net, not 2 x the legs
        # The perp leg is hedged by the spot leg: no "has no stop-loss" alert (with [risk] alert_no_stop on).
        assert app.ctx.settings.risk.alert_no_stop
        assert not [a for a in report.alerts if a.kind == "no_stop"]
        await pilot.press("c")
        await settle(pilot)
        assert any("paper carry close BTCDEMO" in m for m in notifications(pilot))
        assert app.ctx.paper_engine().pairs()[0].qty == 0.05  # nothing closed one leg alone
