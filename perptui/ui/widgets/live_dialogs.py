"""The confirmations of live orders: nothing reaches the exchange on a bare Enter.

``TypedConfirmDialog`` confirms only when one of its words is typed then Enter (the symbol's base or the
exchange's symbol for an order, ``KILL`` for the kill switch), or, where allowed, on ``y`` while nothing
is typed. Escape cancels; so does ``n`` while nothing is typed. The banner (LIVE, or LIVE TESTNET) is red.
``NakedDialog`` is the alarm of a position left without its stop: close it, retry the stop, or keep it
(the default, on Enter and Escape, is to keep: closing is a trade, never done by a stray key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from perptui.ui.keymap import binding

_CSS = """
{name} {{ align: center middle; background: $background 60%; }}
{name} > Vertical {{
    width: 100; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
    border: heavy $error; background: $surface;
}}
{name} #live-head {{ dock: top; height: auto; }}
{name} .live--banner {{ background: $error; color: $text; text-style: bold; width: 100%; }}
{name} .dialog--title {{ text-style: bold; color: $text-primary; }}
{name} .dialog--warning {{ color: $text-error; text-style: bold; }}
{name} .dialog--error {{ color: $text-error; height: auto; }}
{name} .dialog--keys {{ color: $text-warning; text-style: bold; height: auto; }}
{name} #live-foot {{ dock: bottom; height: auto; }}
{name} #live-lines {{ height: auto; max-height: 1fr; }}
{name} Input {{ width: 30; }}
"""


class AnswerField(Input):
    """The field the word is typed in. While it is empty, the letters of ``answers`` are not typed but
    left to the dialog's keys (``y`` and ``n``); once something is typed they are letters again."""

    def __init__(self, answers: set[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers = answers

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if not self.value and character in self.answers:
            return False
        return super().check_consume_key(key, character)


class TypedConfirmDialog(ModalScreen[bool]):
    """``lines`` (scrolling), ``warnings`` and the prompt pinned under them; True only on a typed word
    (any of ``words``, case-insensitive) and Enter, or ``y`` with ``allow_y`` while the field is empty."""

    DEFAULT_CSS = _CSS.format(name="TypedConfirmDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("live_yes", "y", "yes", "Yes", "Send it (while nothing is typed)", priority=True),
        binding("live_no", "n", "no", "No", "Cancel (while nothing is typed)", priority=True),
        binding("live_cancel", "escape", "cancel", "Cancel", "Close without sending", priority=True),
    ]

    def __init__(
        self,
        title: str,
        lines: Sequence[str],
        *,
        words: Sequence[str],
        allow_y: bool,
        banner: str = "",
        warnings: Sequence[str] = (),
        action: str = "send it",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.words = [w for w in words if w]
        self.allow_y = allow_y
        self.banner = banner
        self.warnings = [w for w in warnings if w]
        self.action = action

    @property
    def answers(self) -> set[str]:
        """The keys that answer while nothing is typed: y (where allowed), and n unless a word starts
        with it (NEAR is typed, not cancelled: Escape cancels)."""
        answers = {"y"} if self.allow_y else set()
        if not any(w.lower().startswith("n") for w in self.words):
            answers.add("n")
        return answers

    @property
    def prompt(self) -> str:
        typed = " or ".join(self.words)
        yes = f"type {typed} + enter" + (" (or y)" if self.allow_y else "")
        return f"{yes}: {self.action}   esc: cancel   enter alone never sends"

    def compose(self) -> ComposeResult:
        with Vertical():
            with Vertical(id="live-head"):
                if self.banner:
                    yield Static(f" {self.banner} ", classes="live--banner", markup=False)
                yield Label(self.title_text, classes="dialog--title", markup=False)
            with Vertical(id="live-foot"):
                for warning in self.warnings:
                    yield Static(f"⚠ {warning}", classes="dialog--warning", markup=False)
                yield Static(self.prompt, classes="dialog--keys", markup=False)
                yield AnswerField(self.answers, placeholder=" or ".join(self.words), id="live-typed")
                yield Static("", id="live-error", classes="dialog--error", markup=False)
            with VerticalScroll(id="live-lines"):
                for line in self.lines:
                    yield Static(line, classes="dialog--line", markup=False)

    def on_mount(self) -> None:
        self.typed.focus()

    @property
    def typed(self) -> Input:
        return self.query_one("#live-typed", Input)

    @property
    def error(self) -> str:
        return str(self.query_one("#live-error", Static).content)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``y`` and ``n`` answer only while nothing is typed; else they are letters of the word."""
        if action in ("yes", "no"):
            return not self.typed.value and ("y" if action == "yes" else "n") in self.answers
        return True

    def matches(self, text: str) -> bool:
        return text.strip().upper() in {w.upper() for w in self.words}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.matches(event.value):
            self.dismiss(True)
            return
        typed = " or ".join(self.words)
        said = f"{event.value.strip()!r} is not it: " if event.value.strip() else "enter alone never sends: "
        self.query_one("#live-error", Static).update(f"{said}type {typed} then enter, or esc to cancel")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


class LiveOrderDialog(TypedConfirmDialog):
    """A ticket's live orders, every one as it will be sent; the symbol's base, the exchange's symbol,
    or ``y`` sends them."""

    DEFAULT_CSS = _CSS.format(name="LiveOrderDialog")


NakedChoice = Literal["close", "retry", "keep"]


class NakedDialog(ModalScreen[NakedChoice]):
    """``NO STOP on <symbol>``: c closes it now (reduce-only market), r retries the stop, k, n, Escape or
    Enter keep it as it is (the default)."""

    DEFAULT_CSS = _CSS.format(name="NakedDialog")
    BINDINGS: ClassVar[list[BindingType]] = [
        binding("naked_close", "c", "choose('close')", "Close now", "Close the position: reduce-only market"),
        binding("naked_retry", "r", "choose('retry')", "Retry stop", "Send the stop again"),
        binding("naked_keep", "k,n,escape,enter", "choose('keep')", "Keep", "Keep the position as it is"),
    ]

    def __init__(self, symbol: str, lines: Sequence[str], *, banner: str = "") -> None:
        super().__init__()
        self.symbol = symbol
        self.lines = list(lines)
        self.banner = banner

    def compose(self) -> ComposeResult:
        with Vertical():
            with Vertical(id="live-head"):
                if self.banner:
                    yield Static(f" {self.banner} ", classes="live--banner", markup=False)
                yield Label(
                    f"NO STOP on {self.symbol}: close the position now?",
                    classes="dialog--warning",
                    markup=False,
                )
            with Vertical(id="live-foot"):
                yield Static(
                    "c: close now (reduce-only market)   r: retry the stop   k/n/esc/enter: keep it",
                    classes="dialog--keys",
                    markup=False,
                )
            with VerticalScroll(id="live-lines"):
                for line in self.lines:
                    yield Static(line, classes="dialog--line", markup=False)

    def action_choose(self, choice: NakedChoice) -> None:
        self.dismiss(choice)
