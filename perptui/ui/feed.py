"""``MarketFeed``: polls the market source (tickers) one poll after another, tracks the link's state and
posts ``MarketFeed.Changed``. Failures back off (see ``connection.Link``); the app keeps running."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from perptui.domain.errors import PerptuiError
from perptui.ui.connection import Link, LinkState
from perptui.ui.context import AppContext

if TYPE_CHECKING:
    from perptui.domain.types import Ticker

#: Tickers are written to the cache at most this often (the feed polls every few seconds).
SAVE_EVERY_MS = 60_000


class MarketFeed(Widget):
    DEFAULT_CSS = "MarketFeed { display: none; }"

    class Changed(Message):
        """The link's state or label changed. Newer ones replace queued older ones."""

        def __init__(self, state: LinkState, label: str) -> None:
            super().__init__()
            self.state = state
            self.label = label

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MarketFeed.Changed)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(id="market-feed")
        self.ctx = ctx
        self.link = Link(ctx.settings.ui.refresh_s)
        self.tickers: dict[str, Ticker] = {}
        self.cache_age_ms: int | None = None
        self._saved_at = 0

    def on_mount(self) -> None:
        if self.ctx.settings.offline:
            self.link.go_offline()
            self.read_cache_age()
        else:
            self.call_after_refresh(self.poll)  # after the first frame: building the source imports ccxt

    @work(exclusive=True, group="market", exit_on_error=False, name="poll")
    async def poll(self) -> dict[str, Ticker]:
        source = await asyncio.to_thread(self.ctx.source)
        if source.is_demo:  # the demo market computes in Python: keep it off the event loop
            return await asyncio.to_thread(lambda: asyncio.run(source.fetch_tickers()))
        return await source.fetch_tickers()

    @work(thread=True, exclusive=True, group="market-cache", exit_on_error=False, name="cache")
    def save(self, tickers: list[Ticker]) -> int | None:
        store, name, now = self.ctx.store(), self.ctx.exchange_name, self.ctx.clock.now_ms()
        if tickers:
            store.insert_tickers(name, tickers)
        return store.cache_age_ms(name, "tickers", now)

    @work(thread=True, exclusive=True, group="market-cache", exit_on_error=False, name="cache")
    def read_cache_age(self) -> int | None:
        return self.ctx.store().cache_age_ms(self.ctx.exchange_name, "tickers", self.ctx.clock.now_ms())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.name == "poll" and state in (WorkerState.SUCCESS, WorkerState.ERROR):
            now = self.ctx.clock.now_ms()
            if state is WorkerState.SUCCESS:
                self.tickers = worker.result or {}
                delay = self.link.succeeded(now)
                if now - self._saved_at >= SAVE_EVERY_MS:
                    self._saved_at = now
                    self.save(list(self.tickers.values()))
            else:
                error = worker.error
                if not isinstance(error, PerptuiError):
                    self.log.error("market poll failed", error)
                delay = self.link.failed(str(error))
                self.read_cache_age()
            self.set_timer(delay, self.poll, name="market poll")
            self._post()
        elif worker.name == "cache" and state is WorkerState.SUCCESS:
            self.cache_age_ms = worker.result
            self._post()

    def _post(self) -> None:
        self.post_message(self.Changed(self.link.state, self.link.label(self.cache_age_ms)))
