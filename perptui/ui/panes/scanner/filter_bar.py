"""The scanner's filter bar: the text, min 24h volume and min |APR| fields, read as typed (a refused entry
is marked and said, the view keeps the last good one), and the history backfill's progress at its end.
Under 100 columns (``fold``) the labels shorten and the bar shows the progress without its label."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar, Static

from perptui.ui.panes.scanner.filters import (
    FilterError,
    apr_text,
    parse_min_apr,
    parse_min_volume,
    volume_text,
)
from perptui.ui.panes.scanner.memory import ScanView

#: The labels: (id, wide, narrow).
BAR_LABELS = (
    ("scan-label-text", "/ filter", "/"),
    ("scan-label-volume", "v min 24h vol $", "v vol $"),
    ("scan-label-apr", "a min |APR| %", "a |APR|%"),
)
#: Each field's id: the ScanView field it sets and how its text is read.
_READERS: dict[str, tuple[str, Callable[[str], str | float]]] = {
    "scan-text": ("text", str),
    "scan-min-volume": ("min_volume_usd", parse_min_volume),
    "scan-min-apr": ("min_apr", parse_min_apr),
}


class FilterBar(Horizontal):
    @dataclass
    class Changed(Message):
        """A field now reads as ``value`` for the view's ``name``."""

        name: str
        value: str | float

    @dataclass
    class Refused(Message):
        reason: str

    class Done(Message):
        """Enter in a field that reads well: back to the table."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.text_field = Input(placeholder="symbol", id="scan-text", compact=True)
        self.volume_field = Input(placeholder="any", id="scan-min-volume", compact=True)
        self.apr_field = Input(placeholder="any", id="scan-min-apr", compact=True)
        self.progress_label = Static("", id="scan-progress-label", markup=False)
        self.progress = ProgressBar(id="scan-progress", show_eta=False)
        self.narrow = False

    def compose(self) -> ComposeResult:
        fields = (self.text_field, self.volume_field, self.apr_field)
        for (label_id, wide, _), field in zip(BAR_LABELS, fields, strict=True):
            yield Label(wide, classes="scan-label", id=label_id)
            yield field
        yield self.progress_label
        yield self.progress

    def on_mount(self) -> None:
        self.progress.display = False
        self.progress_label.display = False

    def fold(self, narrow: bool) -> None:
        """Short labels, and the progress without its label, under 100 columns."""
        self.narrow = narrow
        for label_id, wide, short in BAR_LABELS:
            self.query_one(f"#{label_id}", Label).update(short if narrow else wide)
        self.progress_label.display = self.progress.display and not narrow

    def show_view(self, view: ScanView) -> None:
        """Put the view's filters in the fields."""
        self.text_field.value = view.text
        self.volume_field.value = volume_text(view.min_volume_usd)
        self.apr_field.value = apr_text(view.min_apr)

    def show_progress(self, done: int, total: int, symbol: str, per_stage: int) -> None:
        """``done`` of ``total`` fetches, ``per_stage`` perps a stage, the last for ``symbol``."""
        from perptui.services.scan import BACKFILL_STAGES

        stage = min((done - 1) // per_stage, len(BACKFILL_STAGES) - 1)
        self.progress_label.update(f"history {BACKFILL_STAGES[stage]}d · {symbol.split('/')[0]}")
        if done < total:
            self.progress.display = True
            self.progress_label.display = not self.narrow  # under 100 columns the bar alone fits
        self.progress.update(total=total, progress=done)

    def end_progress(self) -> None:
        self.progress.display = False
        self.progress_label.display = False

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        name, read = _READERS[event.input.id or ""]
        try:
            value = read(event.value)
        except FilterError as exc:
            event.input.add_class("-invalid")
            self.post_message(self.Refused(str(exc)))
        else:
            event.input.remove_class("-invalid")
            self.post_message(self.Changed(name, value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.input.has_class("-invalid"):
            self.post_message(self.Done())
