"""Time to first frame: `perptui` (the app on the demo market) against a bare Textual app with the same
widgets, each started as a fresh process in a 120x40 pseudo-terminal, interleaved, in one run.

    python benchmarks/bench_first_frame.py [--runs 15]

The clock runs from spawning the process until the first frame's text ("Effective leverage", a label
both apps draw in their first frame) arrives on the terminal: interpreter start, imports, compose,
first render. Prints the median and best of each and the ratio of the medians (goal: within 1.3x).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

MARKER = b"Effective leverage"
TIMEOUT_S = 30.0

PERPTUI = textwrap.dedent(
    """
    import argparse, sys
    from perptui.cli.cmd_app import run
    sys.exit(run(argparse.Namespace(exchange=None, api_base_url=None, offline=None, db=sys.argv[1],
                                    testnet=None)))
    """
)

BARE = textwrap.dedent(
    """
    from textual.app import App
    from textual.containers import Horizontal, Vertical
    from textual.widgets import ContentSwitcher, Footer, Static

    CARDS = {
        "Capital": ["Equity", "Wallet balance", "Free margin", "Used margin", "Unrealised PnL",
                    "Effective leverage"],
        "Risk per trade": ["Risk % of equity", "Risk budget", "", "PnL today", "PnL this week"],
        "Hybrid plan": ["Neutral base", "Neutral capital", "Directional layer", "Directional capital"],
    }

    class Bare(App):
        CSS = '''
        #bar { height: 1; background: $panel; } #bar > Static { width: auto; padding: 0 1; }
        #cards { height: auto; } .card { width: 1fr; height: 8; border: round $primary; }
        #chart { height: 1fr; border: round $primary; }
        '''
        BINDINGS = [("q", "quit", "Quit"), ("d", "bell", "Deposit"), ("w", "bell", "Withdraw")]

        def compose(self):
            with Horizontal(id="bar"):
                for text in ("perptui", "1 Account", "demo", "DEMO", "connecting", "2025-06-01 00:00:00 UTC"):
                    yield Static(text)
            with ContentSwitcher(initial="account"):
                with Vertical(id="account"):
                    yield Static("loading the account…")
                    with Horizontal(id="cards"):
                        for title, rows in CARDS.items():
                            with Vertical(classes="card") as card:
                                card.border_title = title
                                for row in rows:
                                    yield Static(f"{row:<24}—")
                    yield Static("")
                    chart = Static("no equity history yet", id="chart")
                    chart.border_title = "Equity history  1D  1W  [1M]  ALL"
                    yield chart
            yield Footer()

    Bare().run()
    """
)


def first_frame_s(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawn until MARKER appears on the child's terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < TIMEOUT_S:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen = (seen + os.read(master, 65536))[-4096:]
                except OSError:
                    break
                if MARKER in seen:
                    return time.perf_counter() - start
            if proc.poll() is not None:
                break
        raise RuntimeError(f"no first frame from {argv[-2:]}: {seen[-300:]!r}")
    finally:
        with_kill(proc)
        os.close(master)


def with_kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERPTUI_")}
        env |= {
            "HOME": tmp,
            "XDG_CONFIG_HOME": f"{tmp}/config",
            "XDG_DATA_HOME": f"{tmp}/data",
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
        }
        (home / "run_perptui.py").write_text(PERPTUI)
        (home / "bare.py").write_text(BARE)
        commands = {
            "perptui": [sys.executable, str(home / "run_perptui.py"), str(home / "bench.db")],
            "bare Textual": [sys.executable, str(home / "bare.py"), "-"],
        }
        for argv in commands.values():  # warm the OS file cache and .pyc files; not counted
            first_frame_s(argv, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(first_frame_s(argv, env))
    for name, values in times.items():
        median, best = statistics.median(values) * 1000, min(values) * 1000
        print(f"{name:>13}: median {median:6.0f} ms, best {best:6.0f} ms ({len(values)} runs)")
    ratio = statistics.median(times["perptui"]) / statistics.median(times["bare Textual"])
    print(f"ratio perptui / bare (medians): {ratio:.2f}x (goal: within 1.30x)")


if __name__ == "__main__":
    main()
