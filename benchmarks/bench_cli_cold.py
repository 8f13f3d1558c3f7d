"""Cold `perptui markets --offline` wall time, against a bare Python start in the same run.

Each run is a fresh interpreter (cold imports; the OS file cache is warm after the first run, as it
is for a trader who runs perptui often). The reference, `python -c pass`, is measured interleaved with
perptui so machine noise hits both alike; the ratio is the number to compare across machines.

    python benchmarks/bench_cli_cold.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ, PERPTUI_DB=str(Path(tmp) / "bench.db"), PERPTUI_CONFIG=str(Path(tmp) / "x.toml")
        )
        perptui = [sys.executable, "-m", "perptui", "markets", "--offline", "--json"]
        bare = [sys.executable, "-c", "pass"]
        # Fill the cache once (this run builds the demo market and is not timed).
        subprocess.run(
            [sys.executable, "-m", "perptui", "markets", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall(perptui, env)  # warm the OS file cache
        ours, ref = [], []
        for _ in range(args.runs):
            ref.append(wall(bare, env))
            ours.append(wall(perptui, env))

    med_ours, med_ref = statistics.median(ours), statistics.median(ref)
    print(f"perptui markets --offline --json: median {med_ours * 1000:.0f} ms over {args.runs} runs")
    print(f"python -c pass (reference):       median {med_ref * 1000:.0f} ms")
    print(
        f"ratio: {med_ours / med_ref:.1f}x a bare interpreter start; "
        f"perptui's own work: {(med_ours - med_ref) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
