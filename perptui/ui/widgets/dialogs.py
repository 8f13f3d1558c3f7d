"""Modal dialogs: a form of one or more fields validated inline, and a yes/no confirmation.

A form's ``validate`` turns the typed texts into a result or raises UsageError; the message is shown
under the fields and the dialog stays open, so a bad value records nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
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

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="FormDialog")
        + """
    FormDialog Input { margin-bottom: 1; }
    FormDialog > Vertical { max-height: 100%; overflow-y: auto; }
    """
    )
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
    """A question with its consequences, answered True (yes) or False (no).

    A plain confirmation takes y or Enter for yes, n or Escape for no. One that carries ``warnings``
    (anything flagged: a stop beyond the liquidation price, a breached limit, a price far from the mark,
    a stop removed) defaults to No: only ``y`` confirms, Enter answers no, and the warnings stand out
    above the prompt. The lines scroll when the dialog is taller than the screen; the warnings and the
    prompt stay in view under them.
    """

    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="ConfirmDialog")
        + """
    ConfirmDialog > Vertical { max-height: 100%; }
    ConfirmDialog #confirm-lines { height: auto; max-height: 1fr; }
    ConfirmDialog #confirm-foot { dock: bottom; height: auto; }
    ConfirmDialog .dialog--title { dock: top; }
    ConfirmDialog .dialog--warning { color: $text-error; text-style: bold; margin-top: 1; }
    ConfirmDialog.-default-no .dialog--keys { color: $text-warning; text-style: bold; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("confirm", "y", "confirm", "Yes", "Do it"),
        binding("confirm_default", "enter", "default", "Default", "Yes, or No when a warning is shown"),
        binding("cancel", "n,escape", "cancel", "No", "Close without changing anything"),
    ]

    def __init__(
        self, title: str, lines: Sequence[str], *, warnings: Sequence[str] = (), action: str = ""
    ) -> None:
        """``action`` names what yes does, for the prompt ("place it")."""
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.warnings = [w for w in warnings if w]
        self.action = action
        self.set_class(self.default_no, "-default-no")

    @property
    def default_no(self) -> bool:
        """Enter answers no: the dialog carries a warning."""
        return bool(self.warnings)

    @property
    def prompt(self) -> str:
        yes = f"yes, {self.action}" if self.action else "yes"
        if self.default_no:
            return f"y: {yes}   enter/n/esc: no"
        return f"y/enter: {yes}   n/esc: no"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="dialog--title", markup=False)
            with Vertical(id="confirm-foot"):
                for warning in self.warnings:
                    yield Static(f"⚠ {warning}", classes="dialog--warning", markup=False)
                yield Static(self.prompt, classes="dialog--keys", markup=False)
            with VerticalScroll(id="confirm-lines"):
                for line in self.lines:
                    yield Static(line, classes="dialog--line", markup=False)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_default(self) -> None:
        self.dismiss(not self.default_no)

    def action_cancel(self) -> None:
        self.dismiss(False)
