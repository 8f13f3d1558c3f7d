"""`perptui watch`: the risk monitor and the alert rules without the terminal app, for a server or a
Raspberry Pi. One JSON object per line on stdout for each alert and each paper event; SIGTERM and
SIGINT end it cleanly (the poll in progress finishes first). See ``services.alerts.watch``."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from perptui.domain.errors import UsageError

from .context import open_store, settings_from_args


def emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, default=str) + "\n")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    from perptui.services.alerts.notify import Notifier
    from perptui.services.sources import clock_for

    settings = settings_from_args(args)
    if settings.account == "exchange":
        if settings.offline:
            raise UsageError('account = "exchange" reads the positions from the exchange: drop --offline')
        from perptui.services.accounts import check_exchange_account

        check_exchange_account(settings)
    notifier = Notifier.from_settings(settings)  # a bad target URL is refused before anything runs
    clock = clock_for(settings)
    with open_store(settings) as store:
        asyncio.run(_watch(settings, store, clock, notifier, args))
    return 0


async def _watch(settings, store, clock, notifier, args: argparse.Namespace) -> None:
    from perptui.services.alerts.watch import Watcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = Watcher(settings, store, clock, notifier, emit)
    await watcher.open()
    try:
        if args.once:
            await watcher.tick()
        else:
            await watcher.run(stop, args.interval)
    finally:
        await watcher.close()
