"""The alert rules from the keyboard on the seeded demo: the rules screen opened from the risk pane (``a``),
a rule added (in the list and in the cache), muted and unmuted, deleted after a confirmation that
defaults to No, a bad threshold refused at its field with nothing saved, a default rule that can only be
muted, and "alert me" from the scanner prefilled with the selected perp."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from perptui.services.alerts.store import load_rules, save_rule
from perptui.ui.screens.alerts import AlertsScreen, RuleForm
from perptui.ui.screenshots import open_alert_rules
from perptui.ui.widgets.dialogs import ConfirmDialog
from tests.ui.helpers import notifications, settle, sync, type_text, wait_for_screen
from tests.ui.test_scanner_flows import open_scanner


def stored(app: Any) -> dict[str, dict[str, Any]]:
    with app.ctx.store().reading() as conn:
        return {str(f["id"]): f for f in load_rules(conn)}


def ids(screen: AlertsScreen) -> list[str]:
    return [r.id for r in screen.rules]


def rule(screen: AlertsScreen, rule_id: str) -> Any:
    return next(r for r in screen.rules if r.id == rule_id)


def message(screen: AlertsScreen) -> str:
    return str(screen.query_one("#alerts-message", Static).content)


async def cursor_to(pilot: Pilot, screen: AlertsScreen, rule_id: str) -> None:
    screen.table.move_cursor(row=ids(screen).index(rule_id))
    await pilot.pause()
    assert screen.table.selected is not None and screen.table.selected.id == rule_id


async def fill(pilot: Pilot, form: RuleForm, **texts: str) -> None:
    """Type into the form's fields (``kind`` and ``severity`` are chosen in their Select)."""
    for name, text in texts.items():
        if name in ("kind", "severity"):
            form.query_one(f"#rule-{name}", Select).value = text
            await pilot.pause()
            continue
        field = form.input(name)
        field.focus()
        await pilot.pause()
        field.value = ""
        await type_text(pilot, text)


async def after_change(pilot: Pilot, screen: AlertsScreen, check: Any) -> None:
    for _ in range(100):
        await settle(pilot)
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"the change did not show: {message(screen)!r}")


async def seed_user_rule(app: Any, rule_id: str = "btc-below") -> None:
    fields = {"id": rule_id, "kind": "price_below", "threshold": 50_000.0, "symbol": "BTCDEMO/USDT:USDT"}

    def write() -> None:
        with app.ctx.store().writing() as conn:
            save_rule(conn, fields, app.ctx.clock.now_ms())

    await asyncio.to_thread(write)


@sync
async def test_the_rules_screen_opens_from_the_risk_pane_with_the_default_rules(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_alert_rules(pilot)
        assert ids(screen) == ["liq-distance", "no-stop", "breaker", "stale-data"]
        assert "4 in force, 0 muted" in str(screen.query_one("#alerts-heading", Static).content)
        details = str(screen.query_one("#alerts-details", Static).content)
        assert details.startswith("liq-distance") and "can only be muted" in details
        assert "none has fired yet" in str(screen.query_one("#alerts-history", Static).content)
        # The key is listed in the risk pane's help, by its id.
        assert any(row.binding_id == "risk_alerts" for row in app.key_rows(app.pane("risk"), "Risk"))
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, AlertsScreen) and app.current_pane == "risk"
        app.action_alert_rules()  # what the command palette's "Alert rules" runs
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)


@sync
async def test_the_last_alerts_show_newest_first_with_what_became_of_them(make_app) -> None:
    from perptui.domain.alerts.notification import Notification
    from perptui.domain.alerts.state import Alert
    from perptui.services.alerts.store import record, set_delivered

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        now = app.ctx.clock.now_ms()

        def write() -> None:
            with app.ctx.store().writing() as conn:
                first = Notification(
                    "breaker:*", "breaker", "fired", "critical", "breaker tripped", "", now - 60_000
                )
                entry = record(conn, Alert(first))
                set_delivered(conn, entry, [{"target": "ntfy://***@host/t", "ok": True, "detail": "200"}])
                second = Notification(
                    "no-stop:SOL", "no-stop", "fired", "warning", "SOL has no stop", "", now
                )
                record(conn, Alert(second, held=True))

        await asyncio.to_thread(write)
        screen = await open_alert_rules(pilot)
        lines = str(screen.query_one("#alerts-history", Static).content).splitlines()
        assert lines[0] == "Last alerts:"
        assert "no-stop" in lines[1] and "SOL has no stop" in lines[1] and "held (quiet hours)" in lines[1]
        assert lines[2].startswith("2025-05-31 23:59") and "delivered to 1/1 targets" in lines[2]


@sync
async def test_add_a_rule_it_shows_in_the_list_and_is_saved_in_the_cache(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_alert_rules(pilot)
        await pilot.press("a")
        form = await wait_for_screen(pilot, RuleForm)
        await fill(pilot, form, kind="price_below", threshold="60000", market="BTCDEMO/USDT:USDT")
        await fill(pilot, form, severity="critical", cooldown="1h", quiet="23:00-07:00")
        await pilot.press("ctrl+s")
        await after_change(pilot, screen, lambda: "price-below-btcdemo" in ids(screen))
        added = rule(screen, "price-below-btcdemo")
        assert (added.threshold, added.symbol, added.severity) == (60_000.0, "BTCDEMO/USDT:USDT", "critical")
        assert (added.cooldown_s, added.quiet_hours, added.source) == (3_600, (1_380, 420), "user")
        assert screen.table.selected is not None and screen.table.selected.id == "price-below-btcdemo"
        assert stored(app)["price-below-btcdemo"]["threshold"] == 60_000.0
        assert message(screen).startswith("added price-below-btcdemo")


@sync
async def test_a_bad_threshold_is_refused_at_its_field_and_nothing_is_saved(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_alert_rules(pilot)
        await pilot.press("a")
        form = await wait_for_screen(pilot, RuleForm)
        await fill(pilot, form, kind="liq_distance_pct", threshold="150")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert list(form.errors) == ["threshold"]
        assert "outside" in form.errors["threshold"] and "up to 100%" in form.errors["threshold"]
        await fill(pilot, form, threshold="five")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert form.errors == {"threshold": "'five' is not a number: a number above 0 and up to 100%"}
        await fill(pilot, form, threshold="5", quiet="25:00-07:00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert list(form.errors) == ["quiet"] and "hours 00-23" in form.errors["quiet"]
        await pilot.press("escape")
        await settle(pilot)
        assert stored(app) == {}


@sync
async def test_mute_and_unmute_a_default_rule_which_cannot_be_edited_or_deleted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_alert_rules(pilot)
        await cursor_to(pilot, screen, "no-stop")
        await pilot.press("m")
        await after_change(pilot, screen, lambda: rule(screen, "no-stop").muted)
        assert stored(app)["no-stop"] == {"id": "no-stop", "muted": True}
        assert "4 in force, 1 muted" in str(screen.query_one("#alerts-heading", Static).content)
        assert screen.table.selected is not None and screen.table.selected.id == "no-stop"
        await pilot.press("m")
        await after_change(pilot, screen, lambda: not rule(screen, "no-stop").muted)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, RuleForm)
        assert message(screen) == "no-stop is a default rule: it can only be muted (m)"
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog) and "no-stop" in ids(screen)


@sync
async def test_delete_asks_first_and_enter_answers_no(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await seed_user_rule(app)
        screen = await open_alert_rules(pilot)
        await cursor_to(pilot, screen, "btc-below")
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        assert dialog.default_no
        await pilot.press("enter")
        await settle(pilot)
        assert "btc-below" in ids(screen) and "btc-below" in stored(app)
        assert message(screen) == "btc-below kept"
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmDialog)
        await pilot.press("y")
        await after_change(pilot, screen, lambda: "btc-below" not in ids(screen))
        assert "btc-below" not in stored(app)


@sync
async def test_edit_a_user_rule_keeps_its_id_and_its_mute(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await seed_user_rule(app)
        screen = await open_alert_rules(pilot)
        await cursor_to(pilot, screen, "btc-below")
        await pilot.press("m")
        await after_change(pilot, screen, lambda: rule(screen, "btc-below").muted)
        await pilot.press("e")
        form = await wait_for_screen(pilot, RuleForm)
        assert form.input("threshold").value == "50000"
        assert form.input("market").value == "BTCDEMO/USDT:USDT"
        await fill(pilot, form, threshold="48000")
        await pilot.press("ctrl+s")
        await after_change(pilot, screen, lambda: rule(screen, "btc-below").threshold == 48_000.0)
        assert rule(screen, "btc-below").muted
        assert stored(app)["btc-below"]["threshold"] == 48_000.0


@sync
async def test_alert_me_from_the_scanner_is_prefilled_with_the_selected_perp(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_scanner(pilot)
        await pilot.press("j", "j")
        row = pane.rows[pane.table.cursor_key or ""]
        await pilot.press("n")
        form = await wait_for_screen(pilot, RuleForm)
        assert form.kind == "funding_flip"
        assert form.input("market").value == row.symbol
        assert form.input("threshold").disabled  # a flip takes no threshold
        await fill(pilot, form, kind="funding_apr")
        assert row.apr is not None
        assert form.input("threshold").value == f"{round(abs(row.apr) * 100, 1):g}"
        await fill(pilot, form, kind="funding_z")
        assert row.zscore_30d is not None
        assert form.input("threshold").value == f"{round(abs(row.zscore_30d), 1):g}"
        await fill(pilot, form, kind="funding_flip")
        await pilot.press("ctrl+s")
        for _ in range(100):
            await settle(pilot)
            if any("alert rule added" in n for n in notifications(pilot)):
                break
        base = row.base.lower()
        saved = stored(app)[f"funding-flip-{base}"]
        assert saved["kind"] == "funding_flip" and saved["symbol"] == row.symbol


@sync
async def test_the_form_fits_80x24_with_its_buttons_in_view(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_alert_rules(pilot)
        assert screen.table.size.width <= 80
        await pilot.press("a")
        form = await wait_for_screen(pilot, RuleForm)
        await pilot.pause()
        for button in form.query(Button):
            region = button.region
            assert region.height >= 1 and region.bottom <= 24 and region.right <= 80, button.id
        # Tabbing to the last field scrolls it into view.
        quiet = form.input("quiet")
        quiet.focus()
        await pilot.pause()
        assert isinstance(quiet, Input) and quiet.region.height > 0 and quiet.region.bottom <= 24
