"""The app on the seeded demo market with the clock frozen at 2025-06-01T00:00Z and an in-memory store
(the same builder as ``python -m perptui.ui.screenshots``). One DemoExchange is shared so its caches stay
warm and the suite stays fast; tests never move its clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from perptui.services.clock import FrozenClock
from perptui.services.demo import DemoExchange
from perptui.ui.app import PerptuiApp
from perptui.ui.screenshots import demo_app
from tests.conftest import FROZEN_NOW_MS


@pytest.fixture(scope="session")
def demo_source() -> DemoExchange:
    return DemoExchange(7, FrozenClock(FROZEN_NOW_MS))


@pytest.fixture
def make_app(demo_source: DemoExchange) -> Callable[..., PerptuiApp]:
    def make(*, history: bool = False, config: dict[str, Any] | None = None) -> PerptuiApp:
        return demo_app(history=history, source=demo_source, config=config)

    return make
