"""Time series: funding prints and OHLCV bars, keyed by (series id, time), plus their coverage.

All functions take an open connection and expect the caller (``Store``) to hold the transaction.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import groupby, islice
from operator import attrgetter

from perptui.domain.types import Candle, FundingPrint

FUNDING = "funding"
OHLCV = "ohlcv"


def funding_time(ms: int) -> int:
    """Normalise a funding time to the whole second.

    Binance stamps settled prints with the moment its job ran (``fundingTime`` carries +0..50 ms after
    the hour), and ccxt passes that raw value through, so the same print fetched twice, or fetched and
    imported from a file, can differ by milliseconds. Every exchange settles funding on a whole second
    (in practice a whole hour), so flooring to the second makes them one row without assuming the hour.
    """
    return ms - ms % 1000


class SeriesIds:
    """Maps (exchange, kind, symbol, timeframe) to the integer key of the bulk tables, with a cache.

    Ids created inside a transaction that rolls back are forgotten (``forget_all``) so a stale id is
    never reused.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._cache: dict[tuple[str, str, str, str], int] = {}

    def find(self, exchange: str, kind: str, symbol: str, timeframe: str = "") -> int | None:
        key = (exchange, kind, symbol, timeframe)
        sid = self._cache.get(key)
        if sid is None:
            row = self._conn.execute(
                "SELECT id FROM series WHERE exchange = ? AND kind = ? AND symbol = ? AND timeframe = ?", key
            ).fetchone()
            if row is None:
                return None
            sid = self._cache[key] = row[0]
        return sid

    def get_or_create(self, exchange: str, kind: str, symbol: str, timeframe: str = "") -> int:
        """Needs an open write transaction."""
        sid = self.find(exchange, kind, symbol, timeframe)
        if sid is None:
            cur = self._conn.execute(
                "INSERT INTO series (exchange, kind, symbol, timeframe) VALUES (?, ?, ?, ?)",
                (exchange, kind, symbol, timeframe),
            )
            sid = self._cache[(exchange, kind, symbol, timeframe)] = int(cur.lastrowid or 0)
        return sid

    def forget_all(self) -> None:
        self._cache.clear()


def _range_sql(since: int | None, until: int | None) -> tuple[str, list[int]]:
    sql, args = "", []
    if since is not None:
        sql += " AND time >= ?"
        args.append(since)
    if until is not None:
        sql += " AND time < ?"
        args.append(until)
    return sql, args


def _count(conn: sqlite3.Connection, table: str, sid: int, lo: int, hi: int) -> int:
    return conn.execute(
        f"SELECT count(*) FROM {table} WHERE series = ? AND time BETWEEN ? AND ?", (sid, lo, hi)
    ).fetchone()[0]


def bounds(conn: sqlite3.Connection, table: str, sid: int | None) -> tuple[int, int] | None:
    if sid is None:
        return None
    lo = conn.execute(f"SELECT min(time) FROM {table} WHERE series = ?", (sid,)).fetchone()[0]
    if lo is None:
        return None
    hi = conn.execute(f"SELECT max(time) FROM {table} WHERE series = ?", (sid,)).fetchone()[0]
    return lo, hi


def _statement(table: str, columns: tuple[str, ...], rows: int) -> str:
    """``INSERT .. SELECT ?1, column1, .. FROM (VALUES (?, ..), ..)``: many rows per statement.

    Binding a few hundred rows per statement instead of one per ``executemany`` step halves the
    Python-side cost per row; the series id is bound once per statement. Funding times are floored
    to the second here, in SQLite, where it costs nothing (see ``funding_time``).
    """
    row = "(" + ", ".join("?" * len(columns)) + ")"
    picks = ", ".join(f"column{i + 1}" for i in range(len(columns)))
    if table == "funding":
        picks = picks.replace("column1", "column1 - column1 % 1000", 1)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    olds = ", ".join(columns[1:])
    news = ", ".join(f"excluded.{c}" for c in columns[1:])
    return (
        f"INSERT INTO {table} (series, {', '.join(columns)}) SELECT ?1, {picks} "
        f"FROM (VALUES {', '.join([row] * rows)}) WHERE true "
        f"ON CONFLICT (series, time) DO UPDATE SET {updates} WHERE ({olds}) IS NOT ({news})"
    )


#: Parameters per statement stay under 999, the limit of SQLite builds before 3.32.
_MAX_PARAMS = 900


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], sid: int, flat: list) -> None:
    """Upsert rows given flattened (``columns`` values per row, row after row)."""
    width = len(columns)
    step = max(1, _MAX_PARAMS // width) * width
    full = len(flat) // step * step
    if full:
        statement = _statement(table, columns, step // width)
        conn.executemany(statement, ([sid, *flat[i : i + step]] for i in range(0, full, step)))
    if full < len(flat):
        rest = flat[full:]
        conn.execute(_statement(table, columns, len(rest) // width), [sid, *rest])


def _write(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], sid: int, data: list[list]) -> int:
    """Upsert one series given column lists (``data[0]`` the times); return rows added.

    Rows are sorted by time first (B-tree appends are cheapest in order); of repeated times the last
    wins. Rows added = rows in [first, last] after minus before (a range scan of the primary key;
    skipped before when the batch lies wholly outside the stored rows, the usual append).
    """
    times = data[0]
    if not times:
        return 0
    if not all(map(operator.lt, times, islice(times, 1, None))):
        data = _sorted_unique(data)
        times = data[0]
    width = len(columns)
    flat: list = [None] * (len(times) * width)
    for j, column in enumerate(data):
        flat[j::width] = column
    lo, hi = times[0], times[-1]
    if table == "funding":
        lo, hi = funding_time(lo), funding_time(hi)
    known = bounds(conn, table, sid)
    overlaps = known is not None and not (hi < known[0] or lo > known[1])
    before = _count(conn, table, sid, lo, hi) if overlaps else 0
    _insert(conn, table, columns, sid, flat)
    # Counted rather than assumed len(times): two raw funding times may floor to the same second.
    return _count(conn, table, sid, lo, hi) - before


def _sorted_unique(data: list[list]) -> list[list]:
    times = data[0]
    order = sorted(range(len(times)), key=times.__getitem__)  # stable: equal times keep input order
    keep = [i for k, i in enumerate(order) if k + 1 == len(order) or times[order[k + 1]] != times[i]]
    return [[column[i] for i in keep] for column in data]


FUNDING_COLUMNS = ("time", "rate")
OHLCV_COLUMNS = ("time", "open", "high", "low", "close", "volume")


def upsert_funding(
    conn: sqlite3.Connection, ids: SeriesIds, exchange: str, prints: Sequence[FundingPrint]
) -> int:
    if not prints:
        return 0
    # Runs of one symbol (how backfill and import pass them) are grouped at C speed.
    groups: dict[str, list[FundingPrint]] = {}
    for symbol, run in groupby(prints, key=attrgetter("symbol")):
        if symbol in groups:
            groups[symbol].extend(run)
        else:
            groups[symbol] = list(run)
    added = 0
    for symbol, group in groups.items():
        sid = ids.get_or_create(exchange, FUNDING, symbol)
        data: list[list] = [[p.time for p in group], [p.rate for p in group]]
        added += _write(conn, "funding", FUNDING_COLUMNS, sid, data)
    return added


def load_funding(
    conn: sqlite3.Connection, sid: int | None, symbol: str, since: int | None, until: int | None
) -> list[FundingPrint]:
    if sid is None:
        return []
    sql, args = _range_sql(since, until)
    cur = conn.execute(f"SELECT time, rate FROM funding WHERE series = ?{sql} ORDER BY time", (sid, *args))
    return [FundingPrint(symbol, t, r) for t, r in cur]


def load_funding_many(
    conn: sqlite3.Connection, exchange: str, since: int | None, until: int | None
) -> dict[str, tuple[list[int], list[float]]]:
    """Every funding series of an exchange in [since, until), as (times, rates) columns per symbol.

    One query per series on the primary key: the rows come back as tuples at C speed and are split
    into columns with ``zip``, about ten times faster than building a FundingPrint per row."""
    sql, args = _range_sql(since, until)
    series = conn.execute(
        "SELECT id, symbol FROM series WHERE exchange = ? AND kind = ?", (exchange, FUNDING)
    ).fetchall()
    result: dict[str, tuple[list[int], list[float]]] = {}
    for sid, symbol in series:
        rows = conn.execute(
            f"SELECT time, rate FROM funding WHERE series = ?{sql} ORDER BY time", (sid, *args)
        ).fetchall()
        if rows:
            times, rates = zip(*rows, strict=True)
            result[symbol] = (list(times), list(rates))
    return result


def upsert_ohlcv(
    conn: sqlite3.Connection,
    ids: SeriesIds,
    exchange: str,
    symbol: str,
    timeframe: str,
    candles: Sequence[Candle],
) -> int:
    if not candles:
        return 0
    sid = ids.get_or_create(exchange, OHLCV, symbol, timeframe)
    data: list[list] = [
        [c.time for c in candles],
        [c.open for c in candles],
        [c.high for c in candles],
        [c.low for c in candles],
        [c.close for c in candles],
        [c.volume for c in candles],
    ]
    return _write(conn, "ohlcv", OHLCV_COLUMNS, sid, data)


def load_ohlcv(
    conn: sqlite3.Connection, sid: int | None, since: int | None, until: int | None
) -> list[Candle]:
    if sid is None:
        return []
    sql, args = _range_sql(since, until)
    cur = conn.execute(
        f"SELECT time, open, high, low, close, volume FROM ohlcv WHERE series = ?{sql} ORDER BY time",
        (sid, *args),
    )
    return [Candle(*row) for row in cur]


# --- coverage: the time ranges of a series known to be complete -------------------------------------


def covered(conn: sqlite3.Connection, sid: int | None) -> list[tuple[int, int]]:
    """Disjoint, sorted [start, end) ranges."""
    if sid is None:
        return []
    return [
        (s, e)
        for s, e in conn.execute(
            "SELECT start_ms, end_ms FROM coverage WHERE series = ? ORDER BY start_ms", (sid,)
        )
    ]


def add_coverage(conn: sqlite3.Connection, sid: int, start: int, end: int) -> None:
    """Merge [start, end) into the series' ranges (touching or overlapping ranges become one)."""
    if end <= start:
        return
    touching = conn.execute(
        "SELECT start_ms, end_ms FROM coverage WHERE series = ? AND start_ms <= ? AND end_ms >= ?",
        (sid, end, start),
    ).fetchall()
    for s, e in touching:
        start, end = min(start, s), max(end, e)
    conn.executemany(
        "DELETE FROM coverage WHERE series = ? AND start_ms = ?", [(sid, s) for s, _ in touching]
    )
    conn.execute("INSERT INTO coverage (series, start_ms, end_ms) VALUES (?, ?, ?)", (sid, start, end))


def gaps(ranges: Iterable[tuple[int, int]], since: int, until: int | None) -> list[tuple[int, int | None]]:
    """The parts of [since, until) (until None = open-ended) not inside ``ranges``."""
    out: list[tuple[int, int | None]] = []
    cursor = since
    for s, e in sorted(ranges):
        if until is not None and s >= until:
            break
        if e <= cursor:
            continue
        if s > cursor:
            out.append((cursor, s))
        cursor = max(cursor, e)
    if until is None or cursor < until:
        out.append((cursor, until))
    return out
