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

Every bad row (missing field, not a number, NaN, high < low, negative volume ...) is reported with its
file and line and the good rows still import. A file that cannot be read at all raises DataFileError
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from perptui.domain.errors import DataFileError
from perptui.domain.symbols import spot_of, unified_perp
from perptui.domain.timeframes import timeframe_ms
from perptui.domain.types import Candle, FundingPrint, LeverageTier
from perptui.services.store import Store

FUNDING_COLUMNS = ("fundingTime", "fundingTimeUTC", "symbol", "fundingRate")
OHLCV_COLUMNS = ("openTime", "openTimeUTC", "open", "high", "low", "close", "volume")
OHLCV_DAILY_COLUMNS = ("date", "open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")
#: Epoch-ms sanity range for file times: 2010-01-01 .. 2100-01-01.
_MIN_MS, _MAX_MS = 1_262_304_000_000, 4_102_444_800_000


@dataclass
class BadRow:
    file: Path
    line: int  # 1-based line in the file (the header is line 1); for JSON, the line of the market's key
    reason: str


@dataclass
class ImportReport:
    """``rows_*`` count data rows (for tiers: markets, each with its list of brackets)."""

    files: int = 0
    rows_read: int = 0
    rows_added: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.files += other.files
        self.rows_read += other.rows_read
        self.rows_added += other.rows_added
        self.bad_rows.extend(other.bad_rows)


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


def _symbol_from_name(path: Path, spot: bool) -> str:
    perp = unified_perp(_stem(path))
    if perp is None:
        raise DataFileError(
            f"{path}: cannot tell the market from the file name; name it like BTCUSDT.csv or add a "
            "symbol column"
        )
    return spot_of(perp) if spot else perp


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


def _time_ms(row: list[str], i: int, name: str) -> int:
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
        value = int(f)
    if not _MIN_MS <= value < _MAX_MS:
        raise _Bad(f"{name} {text} is not epoch milliseconds between 2010 and 2100")
    return value


def _date_ms(row: list[str], i: int, name: str) -> int:
    text = _field(row, i, name)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{name} {text!r} is not a date like 2024-01-31") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


# --- funding -------------------------------------------------------------------------------------


def import_funding(store: Store, exchange: str, path: Path) -> ImportReport:
    """Import a funding CSV or a folder of them (``*.csv``, ``*.csv.gz``)."""
    expected = ",".join(FUNDING_COLUMNS)

    def check(f: Path, header: list[str]) -> None:
        _columns(f, header, ("fundingTime", "fundingRate"), expected)

    return _import_csvs(store, path, expected, check, "funding CSV", _funding_file(exchange))


def _funding_file(
    exchange: str,
) -> Callable[[Store, Path, list[str], list[tuple[int, list[str]]], ImportReport], None]:
    def run(
        store: Store, path: Path, header: list[str], rows: list[tuple[int, list[str]]], report: ImportReport
    ) -> None:
        cols = _columns(path, header, ("fundingTime", "fundingRate"), ",".join(FUNDING_COLUMNS))
        i_time, i_rate, i_sym = cols["fundingtime"], cols["fundingrate"], cols.get("symbol")
        default = None if i_sym is not None else _symbol_from_name(path, spot=False)
        names: dict[str, str | None] = {}
        prints: list[FundingPrint] = []
        for line, row in rows:
            try:
                if i_sym is None:
                    symbol = default
                else:
                    raw = _field(row, i_sym, "symbol")
                    symbol = names.get(raw) or names.setdefault(raw, unified_perp(raw))
                    if symbol is None:
                        raise _Bad(f"symbol {raw!r} is not a market name like BTCUSDT")
                t = _time_ms(row, i_time, "fundingTime")
                rate = _number(row, i_rate, "fundingRate")
                if abs(rate) >= 1:
                    raise _Bad(f"fundingRate {rate} is not a fraction (|rate| must be < 1)")
            except _Bad as bad:
                report.bad_rows.append(BadRow(path, line, str(bad)))
                continue
            assert symbol is not None
            prints.append(FundingPrint(symbol, t, rate))
        report.rows_read += len(rows)
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


# --- OHLCV ---------------------------------------------------------------------------------------


def import_ohlcv(store: Store, exchange: str, path: Path, timeframe: str, spot: bool = False) -> ImportReport:
    """Import OHLCV bars of ``timeframe`` from a CSV(.gz) file or a folder; ``spot`` maps to BTC/USDT."""
    tf_ms = timeframe_ms(timeframe)
    expected = f"{','.join(OHLCV_COLUMNS)}[,...] or {','.join(OHLCV_DAILY_COLUMNS)}"

    def check(f: Path, header: list[str]) -> dict[str, int]:
        time_col = "openTime" if "opentime" in {h.strip().lower() for h in header} else "date"
        return _columns(f, header, (time_col, *_PRICES, "volume"), expected)

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
        default = _symbol_from_name(path, spot) if i_sym is None else None
        by_symbol: dict[str, list[Candle]] = {}
        for line, row in rows:
            try:
                if i_sym is None:
                    symbol = default
                else:
                    raw = _field(row, i_sym, "symbol")
                    perp = unified_perp(raw)
                    if perp is None:
                        raise _Bad(f"symbol {raw!r} is not a market name like BTCUSDT")
                    symbol = spot_of(perp) if spot else perp
                bar = _fast_bar(row, i_time, i_o, i_h, i_l, i_c, i_vol) if fast else None
                if bar is None:  # the careful path, which says what is wrong
                    t = parse_time(row, i_time, time_col)
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
            by_symbol.setdefault(symbol, []).append(bar)
        report.rows_read += len(rows)
        for bars in by_symbol.values():
            _check_spacing(path, bars, tf_ms, timeframe)
        with store.transaction():
            for symbol, candles in by_symbol.items():
                report.rows_added += store.upsert_ohlcv(exchange, symbol, timeframe, candles)
                times = [b.time for b in candles]
                # The last bar of a file may have been written while it was still open.
                store.add_coverage(exchange, "ohlcv", symbol, timeframe, min(times), max(times))

    return _import_csvs(store, path, expected, check, "OHLCV CSV", run)


def _fast_bar(row: list[str], i_t: int, i_o: int, i_h: int, i_l: int, i_c: int, i_v: int) -> Candle | None:
    """The common case in one go (4x faster); None sends the row down the careful path."""
    try:
        t = int(row[i_t])
        o, h, lo, c, v = float(row[i_o]), float(row[i_h]), float(row[i_l]), float(row[i_c]), float(row[i_v])
    except (ValueError, IndexError):
        return None
    if (
        _MIN_MS <= t < _MAX_MS
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
) -> ImportReport:
    files = _files(path, (".csv", ".csv.gz"), what)
    # Check every header first, so a folder with one unreadable file imports nothing.
    for f in files:
        header, _ = _read_csv(f, expected, header_only=True)
        check(f, header)
    report = ImportReport()
    for f in files:
        header, rows = _read_csv(f, expected)
        run(store, f, header, rows, report)
        report.files += 1
    return report


# --- leverage tiers ------------------------------------------------------------------------------

_DATED = re.compile(r"^([A-Z0-9]+)_(\d{6})$")
_KEY_LINE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:\s*\[')
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def tier_symbol(key: str) -> str | None:
    """A tiers file's key as a unified symbol: ``BTC/USDT`` -> ``BTC/USDT:USDT``,
    ``ETHUSDT_220624`` -> ``ETH/USDT:USDT-220624``; unified keys stay as they are."""
    text = key.strip()
    if ":" in text:
        return text if "/" in text else None
    dated = _DATED.match(text.upper())
    if dated:
        perp = unified_perp(dated.group(1))
        return f"{perp}-{dated.group(2)}" if perp else None
    return unified_perp(text)


def import_tiers(store: Store, exchange: str, path: Path) -> ImportReport:
    """Import ccxt ``fetch_leverage_tiers()`` JSON (a file or a folder of ``*.json``).

    The file's date (``leverage_tiers_2024-10-24.json``, else its modification time) is the tiers'
    fetch time, so an older file imported after a newer one does not replace its brackets.
    """
    report = ImportReport()
    for f in _files(path, (".json",), "ccxt leverage tiers JSON"):
        _import_tier_file(store, exchange, f, report)
    return report


def _import_tier_file(store: Store, exchange: str, path: Path, report: ImportReport) -> None:
    expected = (
        "a JSON object {symbol: [{minNotional, maxNotional, maintenanceMarginRate, maxLeverage, info}]}"
    )
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DataFileError(f"{path}: cannot read it as JSON ({reason}); expected {expected}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise DataFileError(f"{path}: not ccxt leverage tiers; expected {expected}")
    lines = dict(_key_lines(text))
    fetched_at = _file_time(path)
    source = f"import:{path.name}"
    parsed: dict[str, list[LeverageTier]] = {}
    for key, raw_tiers in data.items():
        line = lines.get(key, 1)
        try:
            symbol = tier_symbol(key)
            if symbol is None:
                raise _Bad(f"{key!r} is not a market name")
            parsed[symbol] = _parse_tiers(raw_tiers)
        except _Bad as bad:
            report.bad_rows.append(BadRow(path, line, f"{key}: {bad}"))
    report.rows_read += len(data)
    with store.transaction():
        for symbol, tiers in parsed.items():
            if store.upsert_tiers(exchange, symbol, tiers, source, fetched_at):
                report.rows_added += 1
    report.files += 1


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
    except ValueError:
        raise _Bad(f"tier {n}: {key} {value!r} is not a number") from None
    if math.isnan(number):
        raise _Bad(f"tier {n}: {key} is NaN")
    return number


def _parse_tiers(raw: list) -> list[LeverageTier]:
    """A market's brackets, all or nothing: one bad tier rejects the market (half a bracket table would
    give wrong maintenance margins)."""
    if not raw:
        raise _Bad("no tiers")
    tiers: list[LeverageTier] = []
    cum = 0.0
    prev_mmr = 0.0
    for n, tier in enumerate(raw, 1):
        if not isinstance(tier, dict):
            raise _Bad(f"tier {n} is not an object")
        lo = _tier_number(tier, "minNotional", n)
        hi = math.inf if tier.get("maxNotional") is None else _tier_number(tier, "maxNotional", n)
        mmr = _tier_number(tier, "maintenanceMarginRate", n)
        lev = _tier_number(tier, "maxLeverage", n)
        if not (math.isfinite(lo) and lo >= 0 and hi > lo):
            raise _Bad(f"tier {n}: notional range {lo} .. {hi} is not increasing from >= 0")
        if not 0 < mmr < 1:
            raise _Bad(f"tier {n}: maintenanceMarginRate {mmr} is not a fraction in (0, 1)")
        if not (math.isfinite(lev) and lev >= 1):
            raise _Bad(f"tier {n}: maxLeverage {lev} is below 1")
        if tiers and lo < tiers[-1].min_notional:
            raise _Bad(f"tier {n}: minNotional {lo} is below the previous tier's")
        # Binance's cum; derived like Binance does when a file lacks it (continuous maintenance margin).
        cum = cum + lo * (mmr - prev_mmr)
        info = tier.get("info")
        if isinstance(info, dict) and info.get("cum") not in (None, ""):
            try:
                cum = float(info["cum"])
            except (TypeError, ValueError):
                raise _Bad(f"tier {n}: info.cum {info['cum']!r} is not a number") from None
        tiers.append(LeverageTier(lo, hi, mmr, cum, lev))
        prev_mmr = mmr
    return tiers
