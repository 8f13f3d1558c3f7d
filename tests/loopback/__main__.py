"""Run the loopback exchange by hand: ``python -m tests.loopback [--demo] [--now-ms MS]``.

Prints the base URL (for ``perptui ... --api-base-url URL``) and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from tests.conftest import BINANCE_DATA, FROZEN_NOW_MS
from tests.loopback.server import LoopbackExchange


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.loopback")
    parser.add_argument("--demo", action="store_true", help="serve the demo market instead of ../shared data")
    parser.add_argument("--now-ms", type=int, default=None, help="cut the data at this time (epoch ms)")
    args = parser.parse_args()
    if args.demo or not BINANCE_DATA.is_dir():
        from tests.loopback.demo_data import DemoBinanceData

        now = args.now_ms or FROZEN_NOW_MS
        server = LoopbackExchange(lambda: DemoBinanceData.create(now_ms=now), mode="demo")
    else:
        from tests.loopback.real_data import RealBinanceData

        server = LoopbackExchange(RealBinanceData(BINANCE_DATA, now_ms=args.now_ms))
    with server:
        print(server.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
