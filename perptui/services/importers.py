"""Import history files into the Store: funding CSV, OHLCV CSV (.csv or .csv.gz), ccxt tiers JSON.

Formats (those of ``../shared/data/binance``, i.e. Binance exports written by ccxt users):

- funding: ``fundingTime`` (epoch ms), ``fundingTimeUTC`` (ignored), ``symbol`` (``BTCUSDT``; optional,
  else the file name), ``fundingRate`` (a fraction per interval). Times are floored to the second by
  the store, as for prints fetched through ccxt, so importing and fetching the same print give one row.
- OHLCV: ``openTime`` (epoch ms), ``openTimeUTC`` (ignored), ``open, high, low, close, volume``; any
  further columns are ignored. Or daily files: ``date`` (YYYY-MM-DD, UTC), ``open .. volume``. The
  symbol comes from a ``symbol`` column when there is one, else from the file name (``BTCUSDT.csv.gz``).
- tiers: the JSON of ccxt ``fetch_leverage_tiers()``, keyed by ``BTC/USDT:USDT`` (or ``BTC/USDT``,
  ``ETHUSDT_220624`` in older files, mapped to the linear contract).

Every bad row (missing field, not a number, NaN or infinity, high < low, negative volume, a time before
2009 or more than a day ahead, a symbol that is not a plain market name ...) is reported with its file
and line and the good rows still import; it is never stored. A row repeating an earlier row's time (and
symbol) is a duplicate: reported, and the first one kept. A row whose time is already stored with other
values is a conflict: reported (count and first few) and the stored value kept, unless ``replace``.
Tiers pass ``domain.tier_check``: an unusable market's brackets are a bad row, a ``cum`` that
contradicts them is recomputed with a warning. A file that cannot be read at all raises DataFileError
and nothing of it is written; each file is written in one transaction. Imported ranges are recorded as
covered, so a later ``fetch`` resumes after them.

The stdlib csv and gzip modules are used: they parse the 367k-row 1h files in about a second, and
importing pandas alone takes longer than that.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from perptui.domain.errors import DataFileError, UsageError
from perptui.domain.import_names import market_symbol, symbol_of_file_stem, symbol_problem
from perptui.domain.symbols import spot_of, unified_perp
from perptui.domain.tier_check import TierProblem, check_tiers
from perptui.domain.tiers import continuous_maint_amounts
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle, FundingPrint, LeverageTier
from perptui.services.store import Store

FUNDING_COLUMNS = ("fundingTime", "fundingTimeUTC", "symbol", "fundingRate")
OHLCV_COLUMNS = ("openTime", "openTimeUTC", "open", "high", "low", "close", "volume")
OHLCV_DAILY_COLUMNS = ("date", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")
#: Epoch-ms sanity range for file times: from 2009-01-01 (before any crypto market) to a day after now.
_MIN_MS = 1_230_768_000_000
_AHEAD_MS = 86_400_000
#: Conflicts shown by name in a report; the count covers all.
SHOWN_CONFLICTS = 5


@dataclass
class BadRow:
    file: Path
    line: int  # 1-based line in the file (the header is line 1); for JSON, the line of the market's key
    reason: str


@dataclass
class ImportReport:
    """``rows_*`` count data rows (for tiers: markets, each with its list of brackets).

    ``duplicates``: rows repeating an earlier row of the file (not imported); ``conflicts``: rows whose
    time is stored with other values (the stored ones kept unless ``replaced``), the first few in
    ``conflict_examples``; ``warnings``: rows imported after a correction (a recomputed ``cum``)."""

    files: int = 0
    rows_read: int = 0
    rows_added: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    duplicates: list[BadRow] = field(default_factory=list)
    conflicts: int = 0
    conflict_examples: list[BadRow] = field(default_factory=list)
    replaced: bool = False
    warnings: list[BadRow] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.files += other.files
        self.rows_read += other.rows_read
        self.rows_added += other.rows_added
        self.bad_rows.extend(other.bad_rows)
        self.duplicates.extend(other.duplicates)
        self.conflicts += other.conflicts
        self.conflict_examples.extend(
            other.conflict_examples[: SHOWN_CONFLICTS - len(self.conflict_examples)]
        )
        self.replaced = self.replaced or other.replaced
        self.warnings.extend(other.warnings)

    def conflict(self, path: Path, line: int, what: str) -> None:
        self.conflicts += 1
        if len(self.conflict_examples) < SHOWN_CONFLICTS:
            self.conflict_examples.append(BadRow(path, line, what))


class _Bad(ValueError):
    """One row's problem, as the reason shown to the user."""


# --- files ---------------------------------------------------------------------------------------


def _files(path: Path, suffixes: tuple[str, ...], what: str) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))
        if not found:
            raise DataFileError(f"{path}: no {' or '.join(suffixes)} files in this folder ({what})")
        return found
    if not path.exists():
        raise DataFileError(f"{path}: no such file or folder ({what})")
    return [path]


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def _read_csv(
    path: Path, expected: str, header_only: bool = False
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, fields)]), reading the whole file before anything is written."""
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise DataFileError(f"{path}: empty file, no header; expected columns {expected}")
            if header_only:
                return header, []
            rows = [(reader.line_num, row) for row in reader if row]
    except DataFileError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, gzip.BadGzipFile) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DataFileError(
            f"{path}: cannot read it as CSV ({reason}); expected columns {expected}"
        ) from None
    return header, rows


def _columns(path: Path, header: list[str], required: tuple[str, ...], expected: str) -> dict[str, int]:
    """Column name (lower case) -> index; DataFileError naming what is missing."""
    index = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
    missing = [c for c in required if c.lower() not in index]
    if missing:
        shown = ",".join(h.strip() for h in header[:8]) + (",..." if len(header) > 8 else "")
        raise DataFileError(
            f"{path}: unknown columns ({shown}): missing {', '.join(missing)}; expected columns {expected}"
        )
    return index


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _symbol_from_name(path: Path, spot: bool, given: str | None = None) -> str:
    """The market of a file without a symbol column: ``given`` (``--symbol``), else its name. A name
    that is not just a market name is refused (a usage error: ``--symbol`` says what the file holds)."""
    perp = given or symbol_of_file_stem(_stem(path))
    if perp is None:
        raise UsageError(
            f"{path}: the file name {_stem(path)!r} does not name a market; name it like BTCUSDT.csv, "
            "add a symbol column, or pass --symbol BTCUSDT"
        )
    return spot_of(perp) if spot else perp


def _row_symbol(raw: str, given: str | None) -> str:
    """A symbol column's value as a unified perp; it must be ``given`` (``--symbol``) when that is set."""
    try:
        perp = market_symbol(raw)
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    if given is not None and perp != given:
        raise _Bad(f"symbol {raw!r} is not the market --symbol names ({given})")
    return perp


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 + 1e-9 * max(abs(a), abs(b))


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


# --- field parsing -------------------------------------------------------------------------------


def _field(row: list[str], i: int, name: str) -> str:
    if i >= len(row) or not row[i].strip():
        raise _Bad(f"missing {name}")
    return row[i].strip()


def _number(row: list[str], i: int, name: str) -> float:
    text = _field(row, i, name)
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise _Bad(f"{name} {text!r} is not a finite number")
    return value


def _in_range(ms: int, text: str, name: str, now_ms: int) -> int:
    if not _MIN_MS <= ms <= now_ms + _AHEAD_MS:
        raise _Bad(f"{name} {text} is not a time from 2009-01-01 to a day after now")
    return ms


def _time_ms(row: list[str], i: int, name: str, now_ms: int) -> int:
    text = _field(row, i, name)
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise _Bad(f"{name} {text!r} is not epoch milliseconds") from None
        if not f.is_integer():
            raise _Bad(f"{name} {text!r} is not a whole number of milliseconds") from None
        if not math.isfinite(f) or abs(f) > 1e17:
            raise _Bad(f"{name} {text!r} is not epoch milliseconds") from None
        value = int(f)
    return _in_range(value, text, name, now_ms)


def _date_ms(row: list[str], i: int, name: str, now_ms: int) -> int:
    text = _field(row, i, name)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{name} {text!r} is not a date like 2024-01-31") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        ms = int(dt.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise _Bad(f"{name} {text} is not a time from 2009-01-01 to a day after now") from None
    return _in_range(ms, text, name, now_ms)


def _now(now_ms: int | None) -> int:
    return int(time.time() * 1000) if now_ms is None else now_ms


# --- funding -------------------------------------------------------------------------------------


def import_funding(
    store: Store,
    exchange: str,
    path: Path,
    *,
    replace: bool = False,
    symbol: str | None = None,
    now_ms: int | None = None,
) -> ImportReport:
    """Import a funding CSV or a folder of them (``*.csv``, ``*.csv.gz``). ``symbol`` (``--symbol``):
    the market of files without a symbol column; ``replace``: overwrite stored prints that differ."""
    expected = ",".join(FUNDING_COLUMNS)
    given = _given_symbol(symbol)

    def check(f: Path, header: list[str]) -> None:
        cols = _columns(f, header, ("fundingTime", "fundingRate"), expected)
        if "symbol" not in cols:
            _symbol_from_name(f, spot=False, given=given)

    run = _funding_file(exchange, given, replace, _now(now_ms))
    return _import_csvs(store, path, expected, check, "funding CSV", run, replace, symbol)


def _given_symbol(symbol: str | None) -> str | None:
    if symbol is None:
        return None
    try:
        return market_symbol(symbol)
    except ValueError as exc:
        raise UsageError(f"--symbol: {exc}") from None


def _funding_file(
    exchange: str, given: str | None, replace: bool, now_ms: int
) -> Callable[[Store, Path, list[str], list[tuple[int, list[str]]], ImportReport], None]:
    def run(
        store: Store, path: Path, header: list[str], rows: list[tuple[int, list[str]]], report: ImportReport
    ) -> None:
        cols = _columns(path, header, ("fundingTime", "fundingRate"), ",".join(FUNDING_COLUMNS))
        i_time, i_rate, i_sym = cols["fundingtime"], cols["fundingrate"], cols.get("symbol")
        default = None if i_sym is not None else _symbol_from_name(path, spot=False, given=given)
        names: dict[str, str] = {}
        by_symbol: dict[str, dict[int, tuple[int, FundingPrint]]] = {}
        for line, row in rows:
            try:
                if i_sym is None:
                    symbol = default
                else:
                    raw = _field(row, i_sym, "symbol")
                    symbol = names.get(raw) or names.setdefault(raw, _row_symbol(raw, given))
                t = _time_ms(row, i_time, "fundingTime", now_ms)
                rate = _number(row, i_rate, "fundingRate")
                if abs(rate) >= 1:
                    raise _Bad(f"fundingRate {rate} is not a fraction (|rate| must be < 1)")
            except _Bad as bad:
                report.bad_rows.append(BadRow(path, line, str(bad)))
                continue
            assert symbol is not None
            seen = by_symbol.setdefault(symbol, {})
            key = t - t % 1000  # the store's key: prints are floored to the second
            if key in seen:
                first_line, first = seen[key]
                same = "the same" if _close(first.rate, rate) else f"another ({first.rate:g})"
                report.duplicates.append(
                    BadRow(path, line, f"{symbol} {_utc(key)} repeats line {first_line} with {same} rate")
                )
                continue
            seen[key] = (line, FundingPrint(symbol, t, rate))
        report.rows_read += len(rows)
        prints: list[FundingPrint] = []
        for symbol, seen in by_symbol.items():
            stored = {p.time: p.rate for p in _stored_funding(store, exchange, symbol, seen)}
            for key, (line, p) in seen.items():
                old = stored.get(key)
                if old is not None and not _close(old, p.rate):
                    report.conflict(
                        path, line, f"{symbol} {_utc(key)} fundingRate {p.rate:g}, stored {old:g}"
                    )
                    if not replace:
                        continue
                prints.append(p)
        with store.transaction():
            report.rows_added += store.upsert_funding(exchange, prints)
            spans: dict[str, tuple[int, int]] = {}
            for p in prints:
                t = p.time - p.time % 1000
                lo, hi = spans.get(p.symbol, (t, t))
                spans[p.symbol] = (min(lo, t), max(hi, t))
            for symbol, (lo, hi) in spans.items():
                store.add_coverage(exchange, "funding", symbol, "", lo, hi + 1)

    return run


def _stored_funding(
    store: Store, exchange: str, symbol: str, seen: Mapping[int, object]
) -> list[FundingPrint]:
    if not seen:
        return []
    return store.load_funding(exchange, symbol, min(seen), max(seen) + 1)


# --- OHLCV ---------------------------------------------------------------------------------------


def import_ohlcv(
    store: Store,
    exchange: str,
    path: Path,
    timeframe: str,
    spot: bool = False,
    *,
    replace: bool = False,
    symbol: str | None = None,
    now_ms: int | None = None,
) -> ImportReport:
    """Import OHLCV bars of ``timeframe`` from a CSV(.gz) file or a folder; ``spot`` maps to BTC/USDT.
    ``symbol`` and ``replace`` as for ``import_funding``."""
    tf_ms = timeframe_ms(timeframe)
    expected = f"{','.join(OHLCV_COLUMNS)}[,...] or {','.join(OHLCV_DAILY_COLUMNS)}"
    given = _given_symbol(symbol)
    now = _now(now_ms)
    max_ms = now + _AHEAD_MS

    def check(f: Path, header: list[str]) -> dict[str, int]:
        time_col = "openTime" if "opentime" in {h.strip().lower() for h in header} else "date"
        cols = _columns(f, header, (time_col, *_PRICES, "volume"), expected)
        if "symbol" not in cols:
            _symbol_from_name(f, spot, given)
        return cols

    def run(
        store: Store, path: Path, header: list[str], rows: list[tuple[int, list[str]]], report: ImportReport
    ) -> None:
        cols = check(path, header)
        time_col = "openTime" if "opentime" in cols else "date"
        i_time = cols[time_col.lower()]
        parse_time = _time_ms if time_col == "openTime" else _date_ms
        i_prices = [cols[c] for c in _PRICES]
        i_vol = cols["volume"]
        i_o, i_h, i_l, i_c = i_prices
        fast = time_col == "openTime"
        i_sym = cols.get("symbol")
        default = _symbol_from_name(path, spot, given) if i_sym is None else None
        by_symbol: dict[str, dict[int, tuple[int, Candle]]] = {}
        for line, row in rows:
            try:
                if i_sym is None:
                    symbol = default
                else:
                    perp = _row_symbol(_field(row, i_sym, "symbol"), given)
                    symbol = spot_of(perp) if spot else perp
                bar = _fast_bar(row, i_time, i_o, i_h, i_l, i_c, i_vol, max_ms) if fast else None
                if bar is None:  # the careful path, which says what is wrong
                    t = parse_time(row, i_time, time_col, now)
                    if all(i >= len(row) or not row[i].strip() for i in (*i_prices, i_vol)):
                        raise _Bad("empty open, high, low, close and volume (no trades in this bar)")
                    o, h, lo, c = (_number(row, i, name) for i, name in zip(i_prices, _PRICES, strict=True))
                    v = _number(row, i_vol, "volume")
                    _check_bar(o, h, lo, c, v)
                    bar = Candle(t, o, h, lo, c, v)
            except _Bad as bad:
                report.bad_rows.append(BadRow(path, line, str(bad)))
                continue
            assert symbol is not None
            seen = by_symbol.setdefault(symbol, {})
            if bar.time in seen:
                first_line, first = seen[bar.time]
                same = "the same values" if _same_bar(first, bar) else "other values"
                report.duplicates.append(
                    BadRow(path, line, f"{symbol} {_utc(bar.time)} repeats line {first_line} with {same}")
                )
                continue
            seen[bar.time] = (line, bar)
        report.rows_read += len(rows)
        for seen in by_symbol.values():
            _check_spacing(path, [b for _, b in seen.values()], tf_ms, timeframe)
        kept: dict[str, list[Candle]] = {}
        for symbol, seen in by_symbol.items():
            stored = (
                {b.time: b for b in store.load_ohlcv(exchange, symbol, timeframe, min(seen), max(seen) + 1)}
                if seen
                else {}
            )
            for t, (line, bar) in seen.items():
                old = stored.get(t)
                if old is not None and not _same_bar(old, bar):
                    report.conflict(path, line, f"{symbol} {timeframe} bar {_utc(t)}: {_bar_text(bar)}, "
                                    f"stored {_bar_text(old)}")  # fmt: skip
                    if not replace:
                        continue
                kept.setdefault(symbol, []).append(bar)
        with store.transaction():
            for symbol, candles in kept.items():
                report.rows_added += store.upsert_ohlcv(exchange, symbol, timeframe, candles)
                times = [b.time for b in candles]
                # The last bar of a file may have been written while it was still open.
                store.add_coverage(exchange, "ohlcv", symbol, timeframe, min(times), max(times))

    return _import_csvs(store, path, expected, check, "OHLCV CSV", run, replace, symbol)


def _same_bar(a: Candle, b: Candle) -> bool:
    return all(
        _close(x, y)
        for x, y in zip(
            (a.open, a.high, a.low, a.close, a.volume),
            (b.open, b.high, b.low, b.close, b.volume),
            strict=True,
        )
    )


def _bar_text(b: Candle) -> str:
    return f"O {b.open:g} H {b.high:g} L {b.low:g} C {b.close:g} V {b.volume:g}"


def _fast_bar(
    row: list[str], i_t: int, i_o: int, i_h: int, i_l: int, i_c: int, i_v: int, max_ms: int
) -> Candle | None:
    """The common case in one go (4x faster); None sends the row down the careful path."""
    try:
        t = int(row[i_t])
        o, h, lo, c, v = float(row[i_o]), float(row[i_h]), float(row[i_l]), float(row[i_c]), float(row[i_v])
    except (ValueError, IndexError):
        return None
    if (
        _MIN_MS <= t <= max_ms
        and math.isfinite(o + h + lo + c + v)
        and 0 < lo <= min(o, c)
        and max(o, c) <= h
        and v >= 0
    ):
        return Candle(t, o, h, lo, c, v)
    return None


def _check_bar(o: float, h: float, lo: float, c: float, v: float) -> None:
    if min(o, h, lo, c) <= 0:
        raise _Bad("a price is zero or negative")
    if h < lo:
        raise _Bad(f"high {h} is below low {lo}")
    if h < max(o, c) or lo > min(o, c):
        raise _Bad(f"open {o} / close {c} lie outside low {lo} .. high {h}")
    if v < 0:
        raise _Bad(f"volume {v} is negative")


def _check_spacing(path: Path, bars: list[Candle], tf_ms: int, timeframe: str) -> None:
    """Refuse a file whose bars are not ``timeframe`` apart (1h bars imported as 8h or the reverse):
    the greatest common divisor of the steps between bars must be the timeframe (gaps are fine)."""
    times = sorted(b.time for b in bars)
    steps = {b - a for a, b in pairwise(times) if b > a}
    if len(steps) < 1 or len(times) < 3:
        return
    step = math.gcd(*steps)
    if step != tf_ms:
        raise DataFileError(
            f"{path}: bars are {step / 3_600_000:g}h apart, not {timeframe}: "
            "pass the file's own bar size as --timeframe"
        )


# --- the shared CSV loop -------------------------------------------------------------------------


def _import_csvs(
    store: Store,
    path: Path,
    expected: str,
    check: Callable[[Path, list[str]], object],
    what: str,
    run: Callable[[Store, Path, list[str], list[tuple[int, list[str]]], ImportReport], None],
    replace: bool = False,
    symbol: str | None = None,
) -> ImportReport:
    files = _files(path, (".csv", ".csv.gz"), what)
    if symbol is not None and len(files) > 1:
        raise UsageError(
            f"--symbol {symbol} names one market, but {path} holds {len(files)} files: import them one by one"
        )
    # Check every header (and file name) first, so a folder with one bad file imports nothing.
    for f in files:
        header, _ = _read_csv(f, expected, header_only=True)
        check(f, header)
    report = ImportReport(replaced=replace)
    for f in files:
        header, rows = _read_csv(f, expected)
        run(store, f, header, rows, report)
        report.files += 1
    return report


def check_csv_files(path: Path, kind: str, symbol: str | None = None, spot: bool = False) -> None:
    """What ``import_funding`` / ``import_ohlcv`` refuse before reading rows (no such file, unreadable
    header, missing columns, a file name that names no market, ``--symbol`` over several files), checked
    before the store is opened: a refused import leaves the cache untouched."""
    given = _given_symbol(symbol)
    if kind == "funding":
        expected, what = ",".join(FUNDING_COLUMNS), "funding CSV"
    else:
        expected, what = f"{','.join(OHLCV_COLUMNS)}[,...] or {','.join(OHLCV_DAILY_COLUMNS)}", "OHLCV CSV"
    files = _files(path, (".csv", ".csv.gz"), what)
    if given is not None and len(files) > 1:
        raise UsageError(
            f"--symbol {symbol} names one market, but {path} holds {len(files)} files: import them one by one"
        )
    for f in files:
        header, _ = _read_csv(f, expected, header_only=True)
        names = {h.strip().lower() for h in header}
        if kind == "funding":
            required: tuple[str, ...] = ("fundingTime", "fundingRate")
        else:
            required = ("openTime" if "opentime" in names else "date", *_PRICES, "volume")
        cols = _columns(f, header, required, expected)
        if "symbol" not in cols:
            _symbol_from_name(f, spot, given)


# --- leverage tiers ------------------------------------------------------------------------------

_DATED = re.compile(r"^([A-Z0-9]+)_(\d{6})$")
_KEY_LINE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\[')
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def tier_symbol(key: str) -> str | None:
    """A tiers file's key as a unified symbol: ``BTC/USDT`` -> ``BTC/USDT:USDT``,
    ``ETHUSDT_220624`` -> ``ETH/USDT:USDT-220624``; unified keys stay as they are. None for a key that
    is not a plain market name (``domain.import_names``)."""
    text = key.strip()
    if ":" in text:
        symbol: str | None = text if "/" in text else None
    elif dated := _DATED.match(text.upper()):
        perp = unified_perp(dated.group(1))
        symbol = f"{perp}-{dated.group(2)}" if perp else None
    else:
        symbol = unified_perp(text)
    return symbol if symbol is not None and symbol_problem(symbol) is None else None


def import_tiers(store: Store, exchange: str, path: Path, *, replace: bool = False) -> ImportReport:
    """Import ccxt ``fetch_leverage_tiers()`` JSON (a file or a folder of ``*.json``).

    A market whose cached brackets differ from the file's is a conflict: reported, and the cached ones
    kept unless ``replace`` (approximate stand-ins are no conflict: real brackets replace them). The
    file's date (``leverage_tiers_2024-10-24.json``, else its modification time) is the tiers' fetch time.
    """
    report = ImportReport()
    for f in _files(path, (".json",), "ccxt leverage tiers JSON"):
        _import_tier_file(store, exchange, f, report, replace)
    report.replaced = replace and report.conflicts > 0
    return report


def _import_tier_file(store: Store, exchange: str, path: Path, report: ImportReport, replace: bool) -> None:
    expected = (
        "a JSON object {symbol: [{minNotional, maxNotional, maintenanceMarginRate, maxLeverage, info}]}"
    )
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except RecursionError:
        raise DataFileError(
            f"{path}: cannot read it as JSON (nested too deeply); expected {expected}"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DataFileError(f"{path}: cannot read it as JSON ({reason}); expected {expected}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise DataFileError(f"{path}: not ccxt leverage tiers; expected {expected}")
    lines = dict(_key_lines(text))
    fetched_at = _file_time(path)
    source = f"import:{path.name}"
    parsed: dict[str, list[LeverageTier]] = {}
    line_of: dict[str, int] = {}
    for key, raw_tiers in data.items():
        line = line_of.setdefault(key, lines.get(key, 1))
        try:
            symbol = tier_symbol(key)
            if symbol is None:
                raise _Bad(f"{key!r} is not a market name")
            checked = check_tiers(_parse_tiers(raw_tiers))
            parsed[symbol] = list(checked.tiers)
            line_of[symbol] = line
            if checked.warning:
                report.warnings.append(BadRow(path, line, f"{key}: {checked.warning}"))
        except TierProblem as bad:
            report.bad_rows.append(BadRow(path, line, f"{key}: {bad}"))
        except _Bad as bad:
            report.bad_rows.append(BadRow(path, line, f"{key}: {bad}"))
    report.rows_read += len(data)
    cached = store.load_tiers(exchange, list(parsed), real_only=True)
    with store.transaction():
        for symbol, tiers in parsed.items():
            stored = cached.get(symbol)
            if stored is not None and stored != tiers:
                held = f"{symbol}: the cache holds other brackets ({_brackets(stored)})"
                report.conflict(path, line_of[symbol], held)
                if not replace:
                    continue
            if store.upsert_tiers(exchange, symbol, tiers, source, fetched_at, replace=replace):
                report.rows_added += 1
    report.files += 1


def _brackets(tiers: Sequence[LeverageTier]) -> str:
    first = tiers[0]
    return f"{len(tiers)} brackets, the first to {first.max_notional:,.0f} at {first.mmr:.4%} maintenance"


def _key_lines(text: str) -> Iterator[tuple[str, int]]:
    for n, line in enumerate(text.splitlines(), 1):
        m = _KEY_LINE.match(line)
        if m:
            yield json.loads(f'"{m.group(1)}"'), n


def _file_time(path: Path) -> int:
    m = _DATE_IN_NAME.search(path.name)
    if m:
        try:
            return int(datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            pass
    return int(path.stat().st_mtime * 1000)


def _tier_number(tier: dict, key: str, n: int) -> float:
    value = tier.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(f"tier {n}: missing {key}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise _Bad(f"tier {n}: {key} {value!r} is not a number") from None
    if not math.isfinite(number) and not (key == "maxNotional" and number == math.inf):
        raise _Bad(f"tier {n}: {key} {value!r} is not a finite number")
    return number


def _parse_tiers(raw: list) -> list[LeverageTier]:
    """A market's brackets as the file gives them, all or nothing: one bad tier rejects the market (half
    a bracket table would give wrong maintenance margins). ``cum`` (``info.cum``) is taken as given
    when every tier has one, whatever its value (``check_tiers`` judges it), else derived as Binance
    does (continuous maintenance margin)."""
    if not raw:
        raise _Bad("no tiers")
    rows: list[tuple[float, float, float, float]] = []
    given: list[float | None] = []
    for n, tier in enumerate(raw, 1):
        if not isinstance(tier, dict):
            raise _Bad(f"tier {n} is not an object")
        lo = _tier_number(tier, "minNotional", n)
        hi = math.inf if tier.get("maxNotional") is None else _tier_number(tier, "maxNotional", n)
        rows.append(
            (lo, hi, _tier_number(tier, "maintenanceMarginRate", n), _tier_number(tier, "maxLeverage", n))
        )
        info = tier.get("info")
        cum = info.get("cum") if isinstance(info, dict) else None
        if cum in (None, ""):
            given.append(None)
            continue
        try:
            given.append(float(cum))
        except (TypeError, ValueError, OverflowError):
            raise _Bad(f"tier {n}: info.cum {cum!r} is not a number") from None
    cums = (
        given if all(c is not None for c in given) else continuous_maint_amounts((r[0], r[2]) for r in rows)
    )
    return [
        LeverageTier(lo, hi, mmr, float(cum or 0.0), lev)
        for (lo, hi, mmr, lev), cum in zip(rows, cums, strict=True)
    ]
