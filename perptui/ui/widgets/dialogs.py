"""Modal dialogs: a form of one or more fields validated inline, and a yes/no confirmation.

A form's ``validate`` turns the typed texts into a result or raises UsageError; the message is shown
under the fields and the dialog stays open, so a bad value records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from perptui.domain.errors import UsageError
from perptui.ui.keymap import binding

T = TypeVar("T")

_DIALOG_CSS = """
{name} {{ align: center middle; background: $background 60%; }}
{name} > Vertical {{
    width: 60; height: auto; padding: 1 2;
    border: round $primary; background: $surface;
}}
{name} .dialog--title {{ text-style: bold; color: $text-primary; margin-bottom: 1; }}
{name} .dialog--hint {{ color: $text-muted; }}
{name} .dialog--error {{ color: $text-error; height: auto; }}
{name} .dialog--keys {{ color: $text-muted; margin-top: 1; height: auto; }}
"""


class FormDialog(ModalScreen[T | None], Generic[T]):
    """Fields (label, initial text); Enter submits, Escape cancels (result None)."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="FormDialog") + "FormDialog Input { margin-bottom: 1; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("cancel", "escape", "cancel", "Cancel", "Close without changing anything")
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[tuple[str, str]],
        validate: Callable[[list[str]], T],
        *,
        hint: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)
        self.validate = validate
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog--title", markup=False)
            for i, (label, initial) in enumerate(self.fields):
                yield Label(label, markup=False)
                yield Input(initial, id=f"field-{i}", select_on_focus=True)
            if self.hint:
                yield Static(self.hint, classes="dialog--hint", markup=False)
            yield Static("", id="error", classes="dialog--error", markup=False)
            yield Static("enter: continue   esc: cancel", classes="dialog--keys")

    @property
    def error(self) -> str:
        return str(self.query_one("#error", Static).content)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        try:
            result = self.validate([i.value for i in inputs])
        except UsageError as exc:
            self.query_one("#error", Static).update(str(exc))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A question with its consequences; y/Enter confirms, n/Escape declines."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", "y,enter", "confirm", "Yes", "Do it"),
        binding("cancel", "n,escape", "cancel", "No", "Close without changing anything"),
    ]

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog--title", markup=False)
            for line in self.lines:
                yield Static(line, markup=False)
            with Horizontal(classes="dialog--keys"):
                yield Static("y/enter: yes   n/esc: no")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
