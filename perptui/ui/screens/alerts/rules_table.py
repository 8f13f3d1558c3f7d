"""The table of the rules in force, its columns chosen for the width: every column from 160 cells; the
kind folds first (the condition says it), then the quiet hours and the market join the condition, so
80 columns show a rule on one line. The line under the table (``details``) says everything about the
rule under the cursor, folded or not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text

from perptui.domain.alerts.rules import AlertRule, condition_text, quiet_hours_text
from perptui.presentation import alerts as words
from perptui.services.alerts.manage import origin
from perptui.ui.widgets.vim import VimTable

WIDE = 160  # every column
MEDIUM = 110  # all but the kind


def _quiet(rule: AlertRule) -> str:
    return quiet_hours_text(rule.quiet_hours) if rule.quiet_hours else "—"


def _when(rule: AlertRule) -> str:
    """The condition with its market, for the narrow table."""
    return condition_text(rule) + (f" · {rule.symbol}" if rule.symbol else "")


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # 0: what is left
    cell: Callable[[AlertRule], str]


_ID = Column("id", 18, lambda r: r.id)
_KIND = Column("kind", 22, lambda r: r.kind)
_CONDITION = Column("condition", 0, condition_text)
_MARKET = Column("market", 16, lambda r: words.market(r.symbol))
_SEVERITY = Column("severity", 8, lambda r: r.severity)
_COOL = Column("cool", 5, lambda r: words.duration(r.cooldown_s))
_QUIET = Column("quiet UTC", 11, _quiet)
_MUTED = Column("muted", 5, lambda r: "muted" if r.muted else "")
_SOURCE = Column("from", 7, words.source)

COLUMNS_WIDE = (_ID, _KIND, _CONDITION, _MARKET, _SEVERITY, _COOL, _QUIET, _MUTED, _SOURCE)
COLUMNS_MEDIUM = (_ID, _CONDITION, _MARKET, _SEVERITY, _COOL, _QUIET, _MUTED, _SOURCE)
COLUMNS_NARROW = (
    Column("id", 16, lambda r: r.id),
    Column("when", 0, _when),
    Column("sev", 4, lambda r: r.severity[:4]),
    Column("cool", 4, lambda r: words.duration(r.cooldown_s)),
    Column("muted", 5, lambda r: "muted" if r.muted else ""),
    Column("from", 7, words.source),
)
#: Cells each column takes besides its width (one blank on either side), and the scrollbar's.
CELL_PADDING = 2
SCROLLBAR = 2


def columns_for(width: int) -> tuple[Column, ...]:
    if width >= WIDE:
        return COLUMNS_WIDE
    return COLUMNS_MEDIUM if width >= MEDIUM else COLUMNS_NARROW


def details(rule: AlertRule) -> str:
    """Everything about ``rule`` on one line, and what may be done to it."""
    where = f" on {rule.symbol}" if rule.symbol else ""
    quiet = f"quiet {quiet_hours_text(rule.quiet_hours)} UTC" if rule.quiet_hours else "never quiet"
    state = "MUTED" if rule.muted else "on"
    can = "e edits, m mutes, d deletes it" if rule.source == "user" else "it can only be muted (m)"
    return (
        f"{rule.id} ({rule.kind}): {condition_text(rule)}{where} · {rule.severity} · cool-down "
        f"{words.duration(rule.cooldown_s)} · {quiet} · {state} · {origin(rule)}: {can}"
    )


class RulesTable(VimTable):
    DEFAULT_CSS = """
    RulesTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.rules: list[AlertRule] = []

    @property
    def selected(self) -> AlertRule | None:
        if not self.rules or self.cursor_row < 0:
            return None
        return self.rules[min(self.cursor_row, len(self.rules) - 1)]

    def show(self, rules: Sequence[AlertRule], width: int, keep: str | None = None) -> None:
        """(Re)build the rows for a table ``width`` cells wide, the cursor on ``keep`` (a rule id) or
        where it was."""
        keep = keep or (self.selected.id if self.selected else None)
        row = self.cursor_row
        self.rules = list(rules)
        columns = columns_for(width)
        self.clear(columns=True)
        fixed = sum(c.width + CELL_PADDING for c in columns if c.width)
        rest = max(12, width - SCROLLBAR - fixed - CELL_PADDING)
        for column in columns:
            self.add_column(column.label, width=column.width or rest)
        for rule in self.rules:  # Text, not str: a DataTable reads a str as markup
            self.add_row(
                *(Text(c.cell(rule), no_wrap=True, overflow="ellipsis") for c in columns), key=rule.id
            )
        ids = [r.id for r in self.rules]
        if ids:
            self.move_cursor(row=ids.index(keep) if keep in ids else min(max(row, 0), len(ids) - 1))
