"""What the sizing pane remembers across restarts: recently used symbols and the last form.

Kept in the store's ``account_settings`` table (JSON values) under the pseudo-account ``sizing:<exchange>``
so each exchange has its own recent symbols; the table has no foreign key, so no account row is needed.
Synchronous: call from a thread worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.ui.panes.sizing.model import FormState

if TYPE_CHECKING:
    from perptui.services.store import Store

RECENT_KEY = "recent_symbols"
FORM_KEY = "form"
MAX_RECENT = 8


def owner(exchange: str) -> str:
    return f"sizing:{exchange}"


@dataclass(frozen=True, slots=True)
class Remembered:
    recent: tuple[str, ...] = ()
    form: FormState | None = None


def with_recent(recent: tuple[str, ...], symbol: str) -> tuple[str, ...]:
    """``symbol`` first, then the others in order, at most ``MAX_RECENT``."""
    return (symbol, *(s for s in recent if s != symbol))[:MAX_RECENT]


def load(store: Store, exchange: str) -> Remembered:
    data = store.load_account_settings(owner(exchange))
    raw = data.get(RECENT_KEY)
    recent = tuple(s for s in raw if isinstance(s, str)) if isinstance(raw, list) else ()
    form = FormState.from_dict(data[FORM_KEY]) if FORM_KEY in data else None
    return Remembered(recent[:MAX_RECENT], form)


def save(store: Store, exchange: str, recent: tuple[str, ...], form: FormState, now_ms: int) -> None:
    with store.transaction():
        store.set_account_setting(owner(exchange), RECENT_KEY, list(recent), now_ms)
        store.set_account_setting(owner(exchange), FORM_KEY, form.as_dict(), now_ms)
