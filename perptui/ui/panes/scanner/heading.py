"""The scanner's heading: the exchange, how many perps are shown of how many, whether the rates are live,
stale or from the cache (and why), and the sort."""

from __future__ import annotations

import time

from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.panes.scanner.columns import sort_label
from perptui.ui.panes.scanner.data import Scanned
from perptui.ui.panes.scanner.memory import ScanView


class ScanHeading(Static):
    def __init__(self, *, id: str) -> None:
        super().__init__("loading the perps…", id=id, markup=False)

    def show(
        self,
        last: Scanned,
        shown: int,
        total: int,
        view: ScanView,
        live_at: int | None,
        now: int,
        stale_after_ms: float,
    ) -> None:
        """``last``, of which ``shown`` perps of ``total`` pass the filters; the rates read from the
        exchange at ``live_at`` are stale after ``stale_after_ms``."""
        scan = last.scan
        parts = [f"{scan.exchange} · {shown} of {total} perps"]
        cached = last.fetched is None
        stale = live_at is not None and now - live_at > stale_after_ms
        if cached:
            age = (
                "no tickers cached"
                if scan.cached_as_of is None
                else f"tickers {fmt.age(now - scan.cached_as_of)} old"
            )
            parts.append(f"CACHED: {last.error} · {age}")
        elif stale:
            parts.append(f"STALE: rates {fmt.age(now - (live_at or now))} old")
        else:
            parts.append(f"live · {time.strftime('%H:%M:%S', time.gmtime(scan.asof / 1000))} UTC")
        parts.append(f"by {sort_label(view.sort)} {'▼' if view.descending else '▲'}")
        self.update(" · ".join(parts))
        self.set_class(cached or stale, "-stale")
