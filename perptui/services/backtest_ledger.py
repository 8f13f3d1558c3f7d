"""A backtest's ledgers as CSV files: ``fills.csv``, ``funding.csv`` and ``equity.csv`` in one folder.

- fills.csv: ``time, symbol, leg, side, qty, price, fee`` (qty unsigned, side buy/sell), then ``layer``
  and ``kind`` (trade, liquidation, close);
- funding.csv: ``time, symbol, qty, mark, rate, amount`` (qty signed: negative for shorts; amount =
  -qty x mark x rate), then ``layer``;
- equity.csv: ``time, equity``, then one column per layer.

Times are ISO 8601 UTC with milliseconds (``2024-01-31T08:00:00.000Z``). Numbers are written with
``repr`` (shortest round-trip form): reading them back gives the same floats, so the files reconcile
exactly as the run did. Each file is written to a temporary name and renamed into place, so a folder
never holds a half-written ledger.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from perptui.domain.backtest.types import LEG_NAMES, BacktestResult
from perptui.domain.errors import UsageError

FILL_COLUMNS = ("time", "symbol", "leg", "side", "qty", "price", "fee", "layer", "kind")
FUNDING_COLUMNS = ("time", "symbol", "qty", "mark", "rate", "amount", "layer")
KIND_NAMES = ("trade", "liquidation", "close")


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _num(x: float) -> str:
    return repr(float(x))


def fill_rows(result: BacktestResult) -> Iterable[list[str]]:
    f = result.fills
    layers = [layer.name for layer in result.layers]
    for i in range(len(f.time)):
        q = float(f.qty[i])
        yield [
            iso_ms(int(f.time[i])), result.symbols[int(f.symbol[i])], LEG_NAMES[int(f.leg[i])],
            "buy" if q > 0 else "sell", _num(abs(q)), _num(f.price[i]), _num(f.fee[i]),
            layers[int(f.layer[i])], KIND_NAMES[int(f.kind[i])],
        ]  # fmt: skip


def funding_rows(result: BacktestResult) -> Iterable[list[str]]:
    f = result.funding
    layers = [layer.name for layer in result.layers]
    for i in range(len(f.time)):
        yield [
            iso_ms(int(f.time[i])), result.symbols[int(f.symbol[i])], _num(f.qty[i]), _num(f.mark[i]),
            _num(f.rate[i]), _num(f.amount[i]), layers[int(f.layer[i])],
        ]  # fmt: skip


def equity_rows(result: BacktestResult) -> Iterable[list[str]]:
    total = result.equity
    per_layer = np.array([layer.equity for layer in result.layers])
    for j, t in enumerate(result.times):
        yield [iso_ms(int(t)), _num(total[j]), *(_num(v) for v in per_layer[:, j])]


def _write(path: Path, header: Sequence[str], rows: Iterable[list[str]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextmanager
def ledger_folder(folder: str | Path) -> Iterator[Path]:
    """The ledger folder, made ready before a backtest runs (which may take minutes): created when
    missing and proven writable by writing a probe file, else UsageError with one line. When the run
    fails, the folders made here are removed again, so a refused run leaves nothing behind."""
    root = Path(folder).expanduser()
    created = [p for p in (root, *root.parents) if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        _remove(created)
        raise UsageError(f"cannot write the ledgers to {root}: {exc.strerror or exc}") from None
    try:
        yield root
    except BaseException:
        _remove(created)
        raise


def _remove(created: list[Path]) -> None:
    for path in created:  # deepest first
        with suppress(OSError):
            path.rmdir()  # only while empty


def write_ledgers(result: BacktestResult, folder: str | Path) -> list[Path]:
    """Write the three files into ``folder`` (created when missing); returns their paths. Raises
    UsageError with one line when the folder cannot be written."""
    root = Path(folder).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        paths = [root / "fills.csv", root / "funding.csv", root / "equity.csv"]
        _write(paths[0], FILL_COLUMNS, fill_rows(result))
        _write(paths[1], FUNDING_COLUMNS, funding_rows(result))
        _write(paths[2], ("time", "equity", *(layer.name for layer in result.layers)), equity_rows(result))
    except OSError as exc:
        raise UsageError(f"cannot write the ledgers to {root}: {exc.strerror or exc}") from None
    return paths
