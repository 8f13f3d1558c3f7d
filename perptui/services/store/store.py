"""The ``Store`` facade: one SQLite connection, transactions, and errors a trader can read."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from perptui.domain.account import AccountInfo, CashFlow, from_units
from perptui.domain.errors import StoreError
from perptui.domain.retention import Retention
from perptui.domain.types import Candle, FundingPrint, LeverageTier, Market, Ticker
from perptui.services.store import ledger as _ledger
from perptui.services.store import markets as _markets
from perptui.services.store import retention as _retention
from perptui.services.store import series as _series
from perptui.services.store import snapshots as _snap
from perptui.services.store import stats as _stats
from perptui.services.store.connection import connect, corrupt_message
from perptui.services.store.migrations import latest_version, migrate
from perptui.services.store.retention import Pruned
from perptui.services.store.stats import TableStats

P = ParamSpec("P")
R = TypeVar("R")

#: Tables reported by ``counts``.
TABLES = ("markets", "tiers", "funding", "ohlcv", "tickers", "equity")


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Run under the store's lock and turn sqlite3 errors into one-line StoreErrors."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self: Store = args[0]  # type: ignore[assignment]  # args[0] is self, a Store; P.args is untyped
        with self._lock:
            if self._conn is None:
                raise StoreError(f"the database {self._where} is closed")
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    return wrapper


class Store:
    """The local SQLite cache. Open with ``Store.open(path)``; use as a context manager or ``close()``.

    Every write method is one transaction (``executemany`` inside), or joins the caller's
    ``with store.transaction():`` so several writes commit together. Times are epoch ms (UTC);
    ``until`` bounds are exclusive, ``since`` inclusive. Not async: each call is short (a page of rows),
    so the event loop is blocked for milliseconds at most.
    """

    path: Path | None

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._ids = _series.SeriesIds(conn)
        #: What the cache keeps of the series perptui writes itself (the ``[cache]`` settings).
        self.retention = Retention()
        self._retention_seen: dict[str, int] = {}  # the pruning tasks' progress, as last read
        self._retention_ready: bool | None = None  # whether the schema has the retention's tables

    # --- lifecycle --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, verify: bool | None = None) -> Store:
        """Open (creating parent folders and the file when absent), validate, and migrate.

        An existing file that is not SQLite, is damaged, belongs to another program or has a newer
        schema raises StoreError and is left byte-for-byte untouched. ``verify``: see ``connect``.
        """
        conn, resolved = connect(path, verify=verify, latest_version=latest_version())
        try:
            migrate(conn, resolved)
        except BaseException:
            conn.close()
            raise
        return cls(conn, resolved)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            with suppress(sqlite3.Error):
                self._conn.execute("PRAGMA optimize")
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _where(self) -> str:
        return str(self.path) if self.path is not None else ":memory:"

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the database {self._where} is closed")
        return self._conn

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return StoreError(
                f"{self._where} is locked by another program (another perptui?); "
                "wait for it or use another --db"
            )
        if "disk is full" in text or "disk I/O" in text or "readonly" in text:
            return StoreError(f"cannot write the database {self._where}: {text}")
        if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in text or "not a database" in text):
            return StoreError(corrupt_message(self.path, text))
        return StoreError(f"database error in {self._where}: {text}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``); nested uses become savepoints.

        Any exception (including KeyboardInterrupt and task cancellation) rolls back what the block
        wrote, so an interrupted write leaves nothing half-done.
        """
        with self._lock:
            conn = self._db
            depth = self._depth
            try:
                conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                try:
                    if depth == 0:
                        conn.execute("ROLLBACK")
                        self._ids.forget_all()
                    else:
                        conn.execute(f"ROLLBACK TO sp{depth}")
                        conn.execute(f"RELEASE sp{depth}")
                except sqlite3.Error:
                    pass
                raise
            self._depth -= 1
            try:
                conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")
            except sqlite3.Error as exc:
                if depth == 0 and conn.in_transaction:
                    conn.execute("ROLLBACK")
                    self._ids.forget_all()
                raise self._translate(exc) from exc

    @contextmanager
    def read(self) -> Iterator[None]:
        """Several reads that must agree (a balance and the flows behind it): one read transaction,
        held under the store's lock so no other thread writes in between. Inside ``transaction()``
        (or another ``read()``) it just joins it. Do not write inside a ``read()`` block."""
        with self._lock:
            conn = self._db
            if self._depth > 0 or conn.in_transaction:
                yield
                return
            try:
                conn.execute("BEGIN DEFERRED")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            try:
                yield
            finally:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")  # nothing was written: ending the read is enough

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that hands out the connection, for store modules whose SQL lives next to
        their tables (the paper book, the risk event log): everything done in the block commits together
        or not at all. sqlite3 errors become one-line StoreErrors."""
        with self._lock, self.transaction():
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Like ``read()`` (several reads that agree), handing out the connection. Do not write in it."""
        with self._lock, self.read():
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    def _write(self, fn: Callable[..., R], *args: Any) -> R:
        with self.transaction():
            return fn(self._db, *args)

    # --- markets and tiers ------------------------------------------------------------------------

    @_guarded
    def upsert_markets(self, exchange: str, markets: Sequence[Market], fetched_at: int) -> int:
        """Insert or replace markets (and their tiers, unless approximate over real); markets written."""
        with self.transaction():
            n = _markets.upsert_markets(self._db, exchange, markets, fetched_at)
            _snap.mark_fetched(self._db, exchange, "markets", fetched_at)
            if any(m.tiers and not m.tiers_approximate for m in markets):
                _snap.mark_fetched(self._db, exchange, "tiers", fetched_at)
        return n

    @_guarded
    def load_markets(self, exchange: str) -> list[Market]:
        return _markets.load_markets(self._db, exchange)

    @_guarded
    def upsert_tiers(
        self,
        exchange: str,
        symbol: str,
        tiers: Sequence[LeverageTier],
        source: str,
        fetched_at: int,
        *,
        replace: bool = False,
    ) -> int:
        """Replace one symbol's brackets; tier rows written (0 when identical, older or approximate,
        unless ``replace``)."""
        with self.transaction():
            n = _markets.upsert_tiers(self._db, exchange, symbol, tiers, source, fetched_at, replace=replace)
            if source != _markets.APPROXIMATE:
                _snap.mark_fetched(self._db, exchange, "tiers", fetched_at)
        return n

    @_guarded
    def load_tiers(
        self, exchange: str, symbols: Sequence[str] | None = None, *, real_only: bool = False
    ) -> dict[str, list[LeverageTier]]:
        """Brackets per symbol; ``real_only`` leaves out the approximate defaults stored for a market the
        exchange served none for (they must never stand in as the exchange's own)."""
        stored = _markets.load_tiers(self._db, exchange, symbols).items()
        return {s: t for s, (t, source) in stored if not (real_only and source == _markets.APPROXIMATE)}

    @_guarded
    def tiers_source(self, exchange: str, symbol: str) -> str | None:
        """Where the stored brackets came from: 'exchange', 'import:<file>', 'approximate' or None."""
        row = self._db.execute(
            "SELECT source FROM tiers WHERE exchange = ? AND symbol = ? LIMIT 1", (exchange, symbol)
        ).fetchone()
        return None if row is None else row[0]

    # --- funding and OHLCV ------------------------------------------------------------------------

    @_guarded
    def upsert_funding(
        self, exchange: str, prints: Sequence[FundingPrint], *, fetched_at: int | None = None
    ) -> int:
        """Insert or update settled prints (times floored to the second); returns rows ADDED.

        ``fetched_at`` (when the prints came from the exchange) updates ``cache_age_ms(.., 'funding')``.
        """
        with self.transaction():
            n = _series.upsert_funding(self._db, self._ids, exchange, prints)
            if fetched_at is not None:
                _snap.mark_fetched(self._db, exchange, "funding", fetched_at)
        return n

    @_guarded
    def load_funding(
        self, exchange: str, symbol: str, since: int | None = None, until: int | None = None
    ) -> list[FundingPrint]:
        sid = self._ids.find(exchange, _series.FUNDING, symbol)
        return _series.load_funding(self._db, sid, symbol, since, until)

    @_guarded
    def load_funding_many(
        self, exchange: str, since: int | None = None, until: int | None = None
    ) -> dict[str, tuple[list[int], list[float]]]:
        """Every cached funding series of ``exchange`` in [since, until): symbol -> (times, rates)."""
        with self.read():
            return _series.load_funding_many(self._db, exchange, since, until)

    @_guarded
    def funding_bounds(self, exchange: str, symbol: str) -> tuple[int, int] | None:
        """(oldest, newest) print time, or None when there is none."""
        return _series.bounds(self._db, "funding", self._ids.find(exchange, _series.FUNDING, symbol))

    @_guarded
    def upsert_ohlcv(
        self,
        exchange: str,
        symbol: str,
        timeframe: str,
        candles: Sequence[Candle],
        *,
        fetched_at: int | None = None,
    ) -> int:
        """Insert bars, or update a stored bar whose values changed (the once-open last bar); rows ADDED."""
        with self.transaction():
            n = _series.upsert_ohlcv(self._db, self._ids, exchange, symbol, timeframe, candles)
            if fetched_at is not None:
                _snap.mark_fetched(self._db, exchange, "ohlcv", fetched_at)
        return n

    @_guarded
    def load_ohlcv(
        self, exchange: str, symbol: str, timeframe: str, since: int | None = None, until: int | None = None
    ) -> list[Candle]:
        sid = self._ids.find(exchange, _series.OHLCV, symbol, timeframe)
        return _series.load_ohlcv(self._db, sid, since, until)

    @_guarded
    def ohlcv_symbols(self, exchange: str) -> dict[str, set[str]]:
        """Every symbol with a stored bar series on ``exchange``: symbol -> its timeframes."""
        out: dict[str, set[str]] = {}
        rows = self._db.execute(
            "SELECT symbol, timeframe FROM series WHERE exchange = ? AND kind = ? "
            "AND EXISTS (SELECT 1 FROM ohlcv WHERE ohlcv.series = series.id)",
            (exchange, _series.OHLCV),
        )
        for symbol, timeframe in rows:
            out.setdefault(symbol, set()).add(timeframe)
        return out

    @_guarded
    def ohlcv_bounds(self, exchange: str, symbol: str, timeframe: str) -> tuple[int, int] | None:
        return _series.bounds(self._db, "ohlcv", self._ids.find(exchange, _series.OHLCV, symbol, timeframe))

    @_guarded
    def coverage(self, exchange: str, kind: str, symbol: str, timeframe: str = "") -> list[tuple[int, int]]:
        """The [start, end) ranges of a series known complete (kind 'funding' or 'ohlcv')."""
        return _series.covered(self._db, self._ids.find(exchange, kind, symbol, timeframe))

    @_guarded
    def add_coverage(
        self, exchange: str, kind: str, symbol: str, timeframe: str, start: int, end: int
    ) -> None:
        """Record that every row of [start, end) is stored (call in the transaction that wrote them)."""
        with self.transaction():
            sid = self._ids.get_or_create(exchange, kind, symbol, timeframe)
            _series.add_coverage(self._db, sid, start, end)

    def missing(
        self, exchange: str, kind: str, symbol: str, timeframe: str, since: int, until: int | None
    ) -> list[tuple[int, int | None]]:
        """The parts of [since, until) not covered yet (until None: open-ended), oldest first."""
        return _series.gaps(self.coverage(exchange, kind, symbol, timeframe), since, until)

    # --- snapshots --------------------------------------------------------------------------------

    @_guarded
    def insert_tickers(self, exchange: str, tickers: Sequence[Ticker]) -> int:
        """Store snapshots keyed by (symbol, timestamp); rows written. Then a step of the retention
        (``maintain``) as of the newest snapshot written."""
        timed = _snap.timed(tickers)
        with self.transaction():
            n = _snap.insert_tickers(self._db, exchange, tickers)
            if timed:
                _snap.mark_fetched(self._db, exchange, "tickers", max(t.timestamp for t in timed))
        if timed:
            self.maintain(max(t.timestamp for t in timed), exchange=exchange)
        return n

    @_guarded
    def latest_tickers(self, exchange: str, asof: int | None = None) -> dict[str, Ticker]:
        """The newest cached ticker of each symbol, at or before ``asof`` when given."""
        return _snap.latest_tickers(self._db, exchange, asof)

    @_guarded
    def record_equity(
        self, account: str, time: int, equity: float, wallet_balance: float | None = None
    ) -> None:
        with self.transaction():
            _snap.record_equity(self._db, account, time, equity, wallet_balance)
        self.maintain(time, account=account)

    @_guarded
    def load_equity(self, account: str, since: int | None = None) -> list[tuple[int, float]]:
        return _snap.load_equity(self._db, account, since)

    @_guarded
    def equity_at(self, account: str, time: int) -> tuple[int, float] | None:
        """The last equity snapshot at or before ``time``, or None."""
        return _ledger.equity_at(self._db, account, time)

    @_guarded
    def last_equity_time(self, account: str) -> int | None:
        return _ledger.last_equity_time(self._db, account)

    # --- retention --------------------------------------------------------------------------------

    @_guarded
    def maintain(self, now: int, *, exchange: str | None = None, account: str | None = None) -> Pruned:
        """One bounded step of the retention as of ``now`` (a data time: the newest snapshot written):
        ``exchange``'s tickers, ``account``'s equity, and the event log; each in its own short
        transaction, a no-op (one small read) when nothing is due. The writers call it after each
        write, in their own thread."""
        if self._retention_ready is None:  # a store held at an older schema (a test of a migration)
            self._retention_ready = _retention.ready(self._db)
        if not self._retention_ready:
            return Pruned()
        policy = self.retention
        do_tickers, do_equity, do_events = _retention.tasks_due(
            self._db, now, policy, exchange, account, self._retention_seen
        )
        tickers = self._write(_retention.tickers_step, exchange, now, policy) if do_tickers else 0
        equity = self._write(_retention.equity_step, account, now, policy) if do_equity else 0
        events = self._write(_retention.events_step, now, policy) if do_events else 0
        if do_tickers or do_equity or do_events:  # where the steps got to: the next call reads nothing
            self._retention_seen.update(self._db.execute("SELECT task, through_ms FROM retention_state"))
        if (tickers or equity or events) and self._depth == 0:
            with suppress(sqlite3.Error):  # what was pruned goes back into the file; the WAL restarts
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return Pruned(tickers, equity, events)

    @_guarded
    def prune_all(self, now: int) -> Pruned:
        """Every retention step due as of ``now``, until none is; then the WAL is checkpointed and
        truncated (when no reader holds it)."""
        total = Pruned()
        while True:
            total += self._write(_retention.step, now, self.retention)
            if not _retention.due(self._db, now, self.retention):
                break
        with suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return total

    @_guarded
    def vacuum(self) -> None:
        """Rewrite the file without its free pages (it shrinks after a prune); needs no other writer."""
        self._db.execute("VACUUM")
        with suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    @_guarded
    def table_stats(self) -> list[TableStats]:
        """Rows, bytes and time span per table, largest first."""
        with self.read():
            return _stats.table_stats(self._db)

    # --- the account ledger -----------------------------------------------------------------------

    @_guarded
    def create_account(
        self,
        name: str,
        currency: str,
        created_at: int,
        opening_balance: float,
        *,
        snapshot: bool = True,
    ) -> bool:
        """Create a ledger account with its opening flow (and, with ``snapshot``, its first equity
        snapshot) in one transaction. Idempotent: False, and nothing written, when it exists."""
        with self.transaction():
            created = _ledger.create_account(self._db, name, currency, created_at, opening_balance)
            if created and snapshot:
                _snap.record_equity(self._db, name, created_at, opening_balance, opening_balance)
        return created

    @_guarded
    def load_account(self, name: str) -> AccountInfo | None:
        return _ledger.load_account(self._db, name)

    @_guarded
    def cash_balance(self, account: str) -> float | None:
        """The wallet's cash balance after the account's last flow (exact); None for no such account."""
        units = _ledger.cash_balance_units(self._db, account)
        return None if units is None else from_units(units)

    @_guarded
    def add_cash_flow(
        self, account: str, time: int, kind: str, amount: float, *, min_balance: float = 0.0
    ) -> CashFlow:
        """Append a 'deposit' or 'withdrawal' (amount > 0). A withdrawal that would leave less than
        ``min_balance`` is refused with UsageError and nothing is written. Joins an open transaction."""
        with self.transaction():
            return _ledger.add_cash_flow(self._db, account, time, kind, amount, min_balance=min_balance)

    @_guarded
    def load_cash_flows(self, account: str, since: int | None = None) -> list[CashFlow]:
        """The account's flows in the order recorded; ``since``: only those at or after it."""
        return _ledger.load_cash_flows(self._db, account, since)

    @_guarded
    def set_account_setting(self, account: str, key: str, value: Any, time: int) -> None:
        """Store a JSON-able value edited in the app (replaces the previous one)."""
        with self.transaction():
            _ledger.set_setting(self._db, account, key, value, time)

    @_guarded
    def load_account_settings(self, account: str) -> dict[str, Any]:
        return _ledger.load_settings(self._db, account)

    @_guarded
    def mark_fetched(self, exchange: str, kind: str, fetched_at: int) -> None:
        """Record a fetch of ``kind`` (markets|tiers|funding|ohlcv|tickers) at ``fetched_at``."""
        with self.transaction():
            _snap.mark_fetched(self._db, exchange, kind, fetched_at)

    @_guarded
    def cache_age_ms(self, exchange: str, kind: str, now: int) -> int | None:
        """Milliseconds since the last fetch of ``kind`` from ``exchange``; None = never fetched."""
        last = _snap.last_fetched(self._db, exchange, kind)
        return None if last is None else max(0, now - last)

    @_guarded
    def counts(self, exchange: str | None = None) -> dict[str, int]:
        """Rows per table (``equity`` is per account, so it is counted whatever ``exchange`` is)."""
        db = self._db
        out = {}
        for table in TABLES:
            if table in ("funding", "ohlcv") and exchange is not None:
                sql = (
                    f"SELECT count(*) FROM {table} WHERE series IN (SELECT id FROM series WHERE exchange = ?)"
                )
                out[table] = db.execute(sql, (exchange,)).fetchone()[0]
            elif table == "equity" or exchange is None:
                out[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            else:
                out[table] = db.execute(
                    f"SELECT count(*) FROM {table} WHERE exchange = ?", (exchange,)
                ).fetchone()[0]
        return out

    @_guarded
    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: 'ok' or the first problems found."""
        rows = self._db.execute("PRAGMA integrity_check(5)").fetchall()
        return "; ".join(str(r[0]) for r in rows)
