"""The alert rules screen (``a`` on the risk pane, or the command palette): every rule in force, where
it comes from, and the last alerts. ``a`` adds a rule, ``e`` edits one of the user's, ``m`` mutes or
unmutes any rule, ``d`` deletes one of the user's (after a confirmation that defaults to No); a default
or config rule can only be muted, and the line under the table says so.

Every read and write runs in a worker thread on the context's store (``changes``), then the table
reloads, its cursor kept on the rule changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from perptui.domain.alerts.rules import AlertRule
from perptui.domain.timeframes import iso_utc
from perptui.presentation import alerts as words
from perptui.services.alerts.manage import RuleChangeError, origin
from perptui.ui.keymap import binding
from perptui.ui.screens.alerts import changes
from perptui.ui.screens.alerts import fields as rule_fields
from perptui.ui.screens.alerts.form import Result, RuleForm
from perptui.ui.screens.alerts.messages import RuleChanged, RulesLoaded
from perptui.ui.screens.alerts.rules_table import RulesTable, details
from perptui.ui.widgets.dialogs import ConfirmDialog
from perptui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from perptui.ui.context import AppContext

#: Under this many rows the last alerts shrink to two lines.
SHORT_HEIGHT = 30


def rule_form(
    ctx: AppContext, title: str, values: rule_fields.FormValues, rule_id: str | None = None
) -> RuleForm:
    return RuleForm(title, values, rule_id=rule_id, default_cooldown_s=ctx.settings.alerts.cooldown_s)


class AlertsScreen(Screen[None]):
    DEFAULT_CSS = """
    AlertsScreen { padding: 0 1; }
    AlertsScreen #alerts-heading { text-style: bold; color: $text-primary; }
    AlertsScreen #alerts-heading.-off { color: $text-warning; }
    AlertsScreen #alerts-details { height: auto; max-height: 3; color: $text-muted; margin-bottom: 1; }
    AlertsScreen #alerts-history { height: auto; max-height: 7; }
    AlertsScreen.-short #alerts-history { max-height: 3; }
    AlertsScreen.-short #alerts-details { margin-bottom: 0; max-height: 2; }
    AlertsScreen #alerts-message { height: auto; color: $text-success; }
    AlertsScreen #alerts-message.-error { color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("alerts_add", "a", "add", "Add", "Add an alert rule"),
        binding(
            "alerts_edit", "e", "edit", "Edit", "Edit the rule (yours; a default or config rule is muted)"
        ),
        binding("alerts_mute", "m", "mute", "Mute", "Mute or unmute the rule"),
        binding("alerts_delete", "d", "delete", "Delete", "Delete the rule (yours), after a confirmation"),
        binding(
            "help",
            "question_mark,f1",
            "help",
            "Help",
            "Every key of this screen and the global keys",
            show=False,
        ),
        binding("alerts_close", "escape,q", "close", "Close", "Back to the pane"),
    ]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.loaded: changes.Loaded | None = None
        self.error: str | None = None
        self.keep: str | None = None  # the rule the cursor goes to on the next load

    def compose(self) -> ComposeResult:
        yield Static("Alert rules · reading…", id="alerts-heading", markup=False)
        yield RulesTable(id="alerts-table")
        yield Static("", id="alerts-details", markup=False)
        yield Static("", id="alerts-history", markup=False)
        yield Static("", id="alerts-message", markup=False)
        yield KeysFooter()

    @property
    def table(self) -> RulesTable:
        return self.query_one(RulesTable)

    @property
    def rules(self) -> list[AlertRule]:
        return self.loaded.rules if self.loaded is not None else []

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(self.app.size.height < SHORT_HEIGHT, "-short")
        self.redraw()

    # --- reading ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="alerts-load", exit_on_error=False)
    def load(self) -> None:
        try:
            self.post_message(RulesLoaded(changes.load(self.ctx)))
        except Exception as exc:  # a stored rule this version refuses, a database error: said in the heading
            self.post_message(RulesLoaded(None, f"could not read the alert rules: {exc}"))

    def on_rules_loaded(self, message: RulesLoaded) -> None:
        self.error = message.error
        if message.loaded is not None:
            self.loaded = message.loaded
        self.redraw()

    # --- drawing ------------------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        heading = self.query_one("#alerts-heading", Static)
        loaded = self.loaded
        if self.error is not None or loaded is None:
            heading.update(self.error or "Alert rules · reading…")
            heading.set_class(self.error is not None, "-off")
            return
        muted = sum(1 for r in loaded.rules if r.muted)
        text = f"Alert rules · {len(loaded.rules)} in force, {muted} muted"
        if not loaded.enabled:
            text += " · alerts are OFF ([alerts] enabled = false in the config)"
        heading.update(text)
        heading.set_class(not loaded.enabled, "-off")
        self.table.show(loaded.rules, self.app.size.width - 2, self.keep)  # the screen's padding: 1 a side
        self.keep = None
        self.show_details()
        self.query_one("#alerts-history", Static).update(self.history_text(loaded))

    def history_text(self, loaded: changes.Loaded) -> str:
        if not loaded.history:
            return "Last alerts: none has fired yet"
        lines = ["Last alerts:"]
        for e in reversed(loaded.history):  # newest first
            at = (iso_utc(e.time) or "").replace("T", " ").removesuffix("Z")[:16]
            delivery = words.delivery(e.held, e.delivered)
            lines.append(f"{at}  {e.severity:<8} {e.kind:<7} {e.rule_id}  {e.title}  [{delivery}]")
        return "\n".join(lines)

    def show_details(self) -> None:
        rule = self.table.selected
        text = details(rule) if rule is not None else "no rule: a adds one"
        self.query_one("#alerts-details", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_details()

    def say(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#alerts-message", Static)
        line.update(text)
        line.set_class(error, "-error")

    # --- the keys -----------------------------------------------------------------------------------

    def selected(self) -> AlertRule | None:
        rule = self.table.selected
        if rule is None:
            self.say("no rule selected", error=True)
        return rule

    def action_add(self) -> None:
        form = rule_form(self.ctx, "Add an alert rule", rule_fields.FormValues(kind="liq_distance_pct"))
        self.app.push_screen(form, self.save_new)

    def save_new(self, fields: Result | None) -> None:
        if fields is not None:
            self.change(lambda: changes.add(self.ctx, fields), "added")

    def action_edit(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        if rule.source != "user":
            self.say(f"{rule.id} is {origin(rule)}: it can only be muted (m)", error=True)
            return
        alerts = self.ctx.settings.alerts
        values = rule_fields.values_of(
            rule, default_cooldown_s=alerts.cooldown_s, default_quiet=alerts.quiet_span()
        )
        form = rule_form(self.ctx, f"Edit the alert rule {rule.id}", values, rule.id)
        self.app.push_screen(form, self.save_edit)

    def save_edit(self, fields: Result | None) -> None:
        if fields is not None:
            self.change(lambda: changes.update(self.ctx, fields), "saved")

    def action_mute(self) -> None:
        rule = self.selected()
        if rule is not None:
            muted = not rule.muted
            self.change(lambda: changes.mute(self.ctx, rule.id, muted), "muted" if muted else "unmuted")

    def action_delete(self) -> None:
        rule = self.selected()
        if rule is None:
            return
        if rule.source != "user":
            self.say(f"{rule.id} is {origin(rule)}: it can only be muted (m)", error=True)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.change(lambda: changes.remove(self.ctx, rule.id), "deleted")
            else:
                self.say(f"{rule.id} kept")

        dialog = ConfirmDialog(
            f"Delete the alert rule {rule.id}?",
            [details(rule)],
            warnings=["it goes with its alert state; adding it again starts afresh"],
            action="delete it",
        )
        self.app.push_screen(dialog, answered)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        from perptui.ui.screens.help import HelpScreen

        rows = self.app.key_rows(self, "Alert rules")  # type: ignore[attr-defined]  # textual's Screen.app is App; key_rows() is PerptuiApp's
        self.app.push_screen(HelpScreen("Keys · Alert rules", rows))

    # --- writing ------------------------------------------------------------------------------------

    @work(thread=True, group="alerts-change", exit_on_error=False)
    def change(self, run: Callable[[], AlertRule], done: str) -> None:
        try:
            rule = run()
        except (RuleChangeError, ValueError) as exc:
            self.post_message(RuleChanged(None, error=str(exc)))
        except Exception as exc:  # a database error: one line
            self.post_message(RuleChanged(None, error=f"not saved: {exc}"))
        else:
            self.post_message(RuleChanged(f"{done} {changes.summary(rule)}", rule.id))

    def on_rule_changed(self, message: RuleChanged) -> None:
        if message.error is not None:
            self.say(message.error, error=True)
            self.notify(message.error, severity="error", timeout=6)
        else:
            self.say(message.done or "")
            self.keep = message.rule_id
        self.load()
