"""Small helpers for Pilot tests."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from textual.pilot import Pilot

from perptui.ui.widgets.stat import Stat

P = ParamSpec("P")
S = TypeVar("S")


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


def notifications(pilot: Pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]


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
