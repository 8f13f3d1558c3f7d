"""Small helpers for Pilot tests."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from textual.pilot import Pilot

from perptui.ui.widgets.stat import Stat

P = ParamSpec("P")


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


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
