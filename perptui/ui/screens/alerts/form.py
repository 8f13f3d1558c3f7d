"""The add / edit form of an alert rule: kind (a Select, each with what it watches), threshold (checked
with the kind's range), market, severity, cool-down, quiet hours.

A bad value shows as one line at its field, in place of the field's hint, and nothing is returned; a
good form dismisses with the rule's keys (``fields.parse``), which the caller saves in a worker. The
fields scroll inside the box and the buttons stay under them, so the form fits 80x24.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from perptui.domain.alerts.rules import KINDS, SEVERITIES, RuleKind
from perptui.presentation import alerts as words
from perptui.ui.keymap import binding
from perptui.ui.screens.alerts import fields as rule_fields
from perptui.ui.screens.alerts.fields import FieldError, FormValues

Result = dict[str, object]
LABELS = {
    "kind": "Kind",
    "threshold": "Threshold",
    "market": "Market",
    "severity": "Severity",
    "cooldown": "Cool-down",
    "quiet": "Quiet hours",
}


class RuleForm(ModalScreen[Result | None]):
    """Dismissed with the rule's keys (with ``id`` when editing), or None when cancelled."""

    DEFAULT_CSS = """
    RuleForm { align: center middle; background: $background 60%; }
    RuleForm > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: round $primary; background: $surface;
    }
    RuleForm .dialog--title { dock: top; text-style: bold; color: $text-primary; margin-bottom: 1; }
    RuleForm #rule-body { height: auto; max-height: 1fr; scrollbar-size-vertical: 1; }
    RuleForm .rule--row { height: 1; }
    RuleForm .rule--label { width: 13; color: $text-muted; }
    RuleForm .rule--row Input, RuleForm .rule--row Select { width: 1fr; }
    RuleForm .rule--row Input { background: $boost; }
    RuleForm .rule--note { color: $text-muted; padding-left: 13; height: auto; margin-bottom: 1; }
    RuleForm .rule--note.-error { color: $text-error; text-style: bold; }
    RuleForm #rule-buttons { dock: bottom; height: 1; margin-top: 1; }
    RuleForm #rule-buttons Button { margin-right: 2; }
    RuleForm #rule-keys { color: $text-muted; width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("alert_form_save", "ctrl+s", "save", "Save", "Check the rule and save it"),
        binding("cancel", "escape", "cancel", "Cancel", "Close without changing anything"),
    ]

    def __init__(
        self, title: str, values: FormValues, *, rule_id: str | None = None, default_cooldown_s: int = 900
    ) -> None:
        super().__init__()
        self.title_text = title
        self.values = values
        self.rule_id = rule_id
        self.default_cooldown_s = default_cooldown_s
        self._filled = values.threshold  # a threshold the form filled in, replaced when the kind changes
        self._kind_shown: RuleKind | None = None

    # --- the widgets ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        v = self.values
        kinds = [(f"{kind} · {spec.what.replace('{t}', 'X')}", kind) for kind, spec in KINDS.items()]
        with Vertical():
            yield Label(self.title_text, classes="dialog--title", markup=False)
            with VerticalScroll(id="rule-body"):
                yield from self._row("kind", Select(kinds, value=v.kind, allow_blank=False, compact=True))
                yield from self._row("threshold", Input(v.threshold, placeholder="a number", compact=True))
                yield from self._row("market", Input(v.market, placeholder="every market", compact=True))
                severities = [(s, s) for s in SEVERITIES]
                severity = v.severity if v.severity in SEVERITIES else "warning"
                yield from self._row("severity", Select(severities, value=severity, allow_blank=False,
                                                        compact=True))  # fmt: skip
                default = words.duration(self.default_cooldown_s)
                cooldown = Input(v.cooldown, placeholder=f"{default} (the [alerts] default)", compact=True)
                yield from self._row("cooldown", cooldown)
                yield from self._row(
                    "quiet", Input(v.quiet, placeholder="the [alerts] default", compact=True)
                )
            with Horizontal(id="rule-buttons"):
                yield Button("Save", variant="primary", id="rule-save", compact=True)
                yield Button("Cancel", id="rule-cancel", compact=True)
                yield Static("ctrl+s save · esc cancel", id="rule-keys")

    def _row(self, name: str, field: Input | Select[str]) -> ComposeResult:
        field.id = f"rule-{name}"
        with Horizontal(classes="rule--row"):
            yield Label(LABELS[name], classes="rule--label")
            yield field
        yield Static(self.hint(name), id=f"rule-{name}-note", classes="rule--note", markup=False)

    def on_mount(self) -> None:
        self.show_kind(self.values.kind, fill=False)
        self.query_one("#rule-kind", Select).focus()

    @property
    def kind(self) -> RuleKind:
        value = self.query_one("#rule-kind", Select).value
        return value if isinstance(value, str) and value in KINDS else self.values.kind

    def hint(self, name: str) -> str:
        kind = self.kind if self.is_mounted else self.values.kind
        return {
            "kind": rule_fields.explain(kind),
            "threshold": rule_fields.threshold_hint(kind),
            "market": rule_fields.market_hint(kind),
            "severity": "critical alerts are sent in quiet hours too",
            "cooldown": f"before it may fire again: {words.DURATION_FORM}",
            "quiet": "only critical alerts then: HH:MM-HH:MM UTC (23:00-07:00); none: never quiet",
        }[name]

    def note(self, name: str) -> Static:
        return self.query_one(f"#rule-{name}-note", Static)

    def input(self, name: str) -> Input:
        return self.query_one(f"#rule-{name}", Input)

    @property
    def errors(self) -> dict[str, str]:
        """The message shown at each field that has one."""
        return {name: str(self.note(name).content) for name in LABELS if self.note(name).has_class("-error")}

    def show_error(self, name: str, message: str | None) -> None:
        note = self.note(name)
        note.update(message or self.hint(name))
        note.set_class(message is not None, "-error")

    # --- the kind ---------------------------------------------------------------------------------

    def show_kind(self, kind: RuleKind, *, fill: bool = True) -> None:
        """The hints of ``kind``; its threshold field off when it takes none, and its suggested value
        filled in when the field is blank or holds the last suggestion."""
        threshold = self.input("threshold")
        takes = KINDS[kind].threshold is not None
        self._kind_shown = kind
        if fill and threshold.value == self._filled:
            suggested = self.values.suggested.get(kind)
            self._filled = "" if suggested is None else rule_fields.threshold_text(suggested)
            threshold.value = self._filled
        threshold.disabled = not takes
        if not takes:
            threshold.value = self._filled = ""
        for name in ("kind", "threshold", "market"):
            self.show_error(name, None)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "rule-kind" and self.kind != self._kind_shown:
            self.show_kind(self.kind)

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("rule-")
        if name in LABELS and self.note(name).has_class("-error"):
            self.show_error(name, None)

    # --- saving -----------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it saves."""
        event.stop()
        if event.input.id == "rule-quiet":
            self.action_save()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "rule-save":
            self.action_save()
        else:
            self.action_cancel()

    def current(self) -> FormValues:
        severity = self.query_one("#rule-severity", Select).value
        return FormValues(
            kind=self.kind,
            threshold=self.input("threshold").value,
            market=self.input("market").value,
            severity=severity if isinstance(severity, str) else "",
            cooldown=self.input("cooldown").value,
            quiet=self.input("quiet").value,
        )

    def action_save(self) -> None:
        for name in LABELS:
            self.show_error(name, None)
        try:
            result = rule_fields.parse(self.current(), self.rule_id)
        except FieldError as exc:
            self.show_error(exc.field, exc.message)
            widget = self.query_one(f"#rule-{exc.field}")
            widget.focus()
            widget.scroll_visible()
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
