"""The risk pane shows a carry pair as one hedged row: the net exposure, not the legs' gross, in its row
and in the portfolio; the close keys point at the pair's own command (its legs go together)."""

from __future__ import annotations

import asyncio

from perptui.ui.screenshots import open_risk
from tests.ui.helpers import notifications, settle, sync

SIZE = (120, 40)
BTC = "BTCDEMO/USDT:USDT"


def open_pair(app) -> None:  # type: ignore[no-untyped-def]
    """A 0.05 BTCDEMO pair at the demo's mark and spot price (the index). Blocking."""
    ctx = app.ctx
    source = ctx.source()
    markets = asyncio.run(source.load_markets())
    ctx.store().upsert_markets(ctx.exchange_name, markets, ctx.clock.now_ms())
    engine = ctx.paper_engine()
    engine.book.use(markets)
    rate = asyncio.run(source.fetch_funding_rates([BTC]))[BTC]
    engine.open_pair(BTC, 0.05, mark=rate.mark, spot=rate.index)


@sync
async def test_a_pair_is_one_hedged_row_and_counts_its_net_exposure(make_app) -> None:
    app = make_app(history=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await asyncio.to_thread(open_pair, app)
        pane = await open_risk(pilot, sample=False)
        assert pane.table.keys_in_order() == [f"pair:{BTC}"]
        report = pane.report
        (row,) = report.portfolio.pairs
        assert row.net_delta == 0 and row.perp is not None and row.perp.side == "short"
        assert report.portfolio.gross_exposure < 0.01 * row.perp.notional  # net, not 2 x the legs
        await pilot.press("c")
        await settle(pilot)
        assert any("paper carry close BTCDEMO" in m for m in notifications(pilot))
        assert app.ctx.paper_engine().pairs()[0].qty == 0.05  # nothing closed one leg alone
