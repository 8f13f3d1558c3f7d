"""At 80x24 the header and the footer fit: every pane key the footer shows is whole on screen (the keys
every screen has give way, and still work), and the header's clock is not cut."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from perptui.ui.widgets.footer import KeysFooter
from tests.ui.helpers import settle, sync


@pytest.mark.parametrize("pane", ["1", "2", "3", "5"])
@sync
async def test_at_80x24_the_footer_shows_whole_keys_and_the_clock_is_whole(make_app, pane: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(pane)
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        shown = [k for k in footer.query(FooterKey) if k.display]
        assert shown and all(k.region.right <= 80 for k in shown), [(k.key, k.region) for k in shown]
        assert not [k for k in shown if k.action.endswith(("toggle_privacy", "toggle_theme"))]
        clock = app.screen.query_one("#clock")
        assert clock.content_region.right <= 80 and str(clock.render()).endswith("UTC")
        await pilot.press("p")  # hidden from the footer, still a key
        assert app.privacy


@sync
async def test_at_120_columns_the_footer_keeps_every_key(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = [k.action for k in app.screen.query_one(KeysFooter).query(FooterKey) if k.display]
        assert any(a.endswith("toggle_privacy") for a in shown)
