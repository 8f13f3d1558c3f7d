"""A loopback HTTP receiver for alert delivery: the target of Apprise's ``json://`` and ``ntfy://`` URLs.

An aiohttp app on 127.0.0.1 (a free port) that records every request and answers as its ``mode`` says:
``ok`` (200), ``slow`` (records the request, then answers 200 only once the test calls ``release()``:
no timers), ``5xx`` (503), ``drop`` (closes the connection without an answer). Start it inside the
test's event loop (``async with NotifyReceiver() as r``), or on a thread of its own for a test that
runs a command which makes its own loop (``with NotifyReceiver().in_thread() as r``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

Mode = Literal["ok", "slow", "5xx", "drop"]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class NotifyReceiver:
    def __init__(self, mode: Mode = "ok") -> None:
        self.mode: Mode = mode
        self.requests: list[Received] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Condition | None = None
        self._release: asyncio.Event | None = None

    # URLs of this receiver for Apprise.
    def json_url(self, path: str = "hook/TOKEN-json-s3cr3t") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def ntfy_url(self, topic: str = "topic-s3cr3t", auth: str = "") -> str:
        return f"ntfy://{auth + '@' if auth else ''}127.0.0.1:{self.port}/{topic}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._arrived is not None and self._release is not None
        received = Received(request.method, request.path, dict(request.headers), await request.text())
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        mode = self.mode
        if mode == "slow":
            await self._release.wait()
        elif mode == "5xx":
            return web.json_response({"error": "unavailable"}, status=503)
        elif mode == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        return web.json_response({"ok": True})

    async def wait_for(self, count: int) -> list[Received]:
        """Until ``count`` requests have arrived (driven by arrivals, no timer)."""
        assert self._arrived is not None
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return list(self.requests)

    def release(self) -> None:
        """Let a slow receiver answer (every waiting request, and later ones at once)."""
        assert self._loop is not None and self._release is not None
        self._loop.call_soon_threadsafe(self._release.set)

    async def start(self) -> NotifyReceiver:
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Condition()
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # No access log: it would print the request paths, which hold the (fake) tokens.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> NotifyReceiver:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[NotifyReceiver]:
        """Run on a loop of its own in a daemon thread (for code that calls ``asyncio.run`` itself)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="notify-receiver", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=30)
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            loop.close()
