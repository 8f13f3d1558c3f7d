"""The app on the seeded demo market with the clock frozen at 2025-06-01T00:00Z and an in-memory store
(the same builder as ``python -m perptui.ui.screenshots``). One DemoExchange is shared so its caches stay
warm and the suite stays fast; a test that moves its clock has it put back by ``make_app``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.ui.app import PerptuiApp
from perptui.ui.screenshots import demo_app
from tests.conftest import FROZEN_NOW_MS
from tests.ui.helpers import record_notifications


@pytest.fixture(scope="session")
def demo_source() -> DemoExchange:
    return DemoExchange(7, FrozenClock(FROZEN_NOW_MS))


@pytest.fixture
def make_app(demo_source: DemoExchange) -> Iterator[Callable[..., PerptuiApp]]:
    """The app builder; a test that moves the shared clock (to drive a tick) has it put back after, so
    no later test in the process (a snapshot's header clock) sees the moved time."""

    def make(*, history: bool = False, config: dict[str, Any] | None = None) -> PerptuiApp:
        return record_notifications(demo_app(history=history, source=demo_source, config=config))

    yield make
    clock = demo_source.clock
    assert isinstance(clock, FrozenClock)
    clock.set(FROZEN_NOW_MS)
