"""The scanner's workers failing: a poll, the history backfill or saving the view raises, and the trader
reads what went wrong (the message line, the standing note, a warning) while the pane keeps going."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Static

from perptui.domain.errors import ExchangeError, StoreError
from perptui.ui.panes.scanner import ScannerPane, data, memory
from tests.ui.helpers import notifications, settle, sync
from tests.ui.test_scanner_flows import open_scanner


def message_line(pane: ScannerPane) -> Static:
    return pane.query_one("#scan-message", Static)


@sync
async def test_a_failed_poll_is_said_and_the_next_one_still_comes(make_app, monkeypatch) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        rows = dict(pane.rows)

        async def unreadable(*args: object, **kwargs: object) -> data.Scanned:
            raise StoreError("the cache is unreadable")

        monkeypatch.setattr(data, "scan", unreadable)
        pane.refresh_data()
        await settle(pilot)
        line = message_line(pane)
        assert str(line.render()) == "could not scan: the cache is unreadable"
        assert line.has_class("-error")
        assert pane.rows == rows and pane.table.row_count == len(rows)  # the last scan stays shown
        assert pane._poll_timer is not None  # the poll chain goes on


@sync
async def test_a_stopped_backfill_leaves_a_note_and_hides_its_progress(make_app, monkeypatch) -> None:
    async def refused(*args: object) -> None:
        raise ExchangeError("rate limited")

    monkeypatch.setattr(data, "backfill", refused)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        assert pane.backfill_done_at is not None and pane.backfilling is None
        line = message_line(pane)
        note = "history backfill stopped (rate limited); the statistics use what is cached"
        assert str(line.render()) == note and not line.has_class("-error")
        assert not pane.query_one("#scan-progress").display
        await pilot.press("a", "x")  # a refused filter is said over the note ...
        assert "min |APR| 'x'" in str(line.render())
        await pilot.press("backspace")  # ... and the note comes back once the field reads well
        assert str(line.render()) == note


@sync
async def test_a_view_that_cannot_be_saved_is_a_warning(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)

        def locked(*args: object) -> None:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(memory, "save", locked)
        await pilot.press("r")
        await settle(pilot)
        assert pane.view.descending is False  # the view changed all the same
        assert "could not remember the scanner's view: database is locked" in notifications(pilot)
