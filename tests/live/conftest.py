"""Fixtures of the live trading tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perptui.services.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh cache file: the order log, the risk events and the breaker's log of one test."""
    with Store.open(tmp_path / "cache.db") as s:
        yield s
