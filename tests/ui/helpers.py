"""Small helpers for Pilot tests."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from textual.app import App
from textual.pilot import Pilot

from perptui.ui.widgets.stat import Stat

P = ParamSpec("P")
S = TypeVar("S")
A = TypeVar("A", bound=App[Any])


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for_screen(pilot: Pilot, screen_type: type[S]) -> S:
    """The dialog a worker pushed (that worker waits for the answer, so ``settle`` would hang)."""
    for _ in range(150):
        if isinstance(pilot.app.screen, screen_type):
            return pilot.app.screen
        await pilot.pause(0.02)
    raise AssertionError(f"no {screen_type.__name__}; the screen is {pilot.app.screen!r}")


def record_notifications(app: A) -> A:
    """Keep every toast ``app`` raises, so a test reads it however long the test ran (a toast on screen
    expires after its timeout in wall-clock time, which a loaded machine can outlast)."""
    seen: list[str] = []
    shown = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        seen.append(message)
        shown(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    app.notes_seen = seen  # type: ignore[attr-defined]
    return app


def notifications(pilot: Pilot) -> list[str]:
    """Every toast raised so far (recorded by ``record_notifications``), else the ones on screen."""
    seen = getattr(pilot.app, "notes_seen", None)
    return list(seen) if seen is not None else [n.message for n in pilot.app._notifications]


def stat(pilot: Pilot, stat_id: str) -> str:
    return pilot.app.query_one(f"#{stat_id}", Stat).text


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", ",": "comma", ".": "full_stop", "-": "minus"}.get(c, c) for c in text])


def sync(fn: Callable[P, Awaitable[None]]) -> Callable[P, None]:
    """Run an async test in its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


async def press_queued(pilot: Pilot, *keys: str) -> None:
    """Queue every key before the app reads the first, as a terminal delivers keys typed fast.
    (``pilot.press`` lets the app go idle between keys, which hides what a queued key meets.)"""
    from textual import events

    app = pilot.app
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()


async def settle_or_fail(pilot: Pilot, limit_s: float = 60) -> None:
    """``settle``, failing (not hanging) when a worker waits on a dialog nobody answers."""
    await asyncio.wait_for(settle(pilot), limit_s)
