"""What the cache holds: rows, bytes and time span per table (``perptui cache stats``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableStats:
    table: str
    rows: int
    #: Bytes of the table's pages and its indexes' (SQLite's dbstat); None when this SQLite lacks it.
    bytes: int | None
    #: The oldest and newest ``time`` (epoch ms) of a table that has one, else None.
    first: int | None
    last: int | None

    def as_dict(self) -> dict[str, object]:
        return {"table": self.table, "rows": self.rows, "bytes": self.bytes, "first": self.first,
                "last": self.last}  # fmt: skip


def _page_bytes(conn: sqlite3.Connection) -> dict[str, int] | None:
    """Bytes per table, its indexes included (an index is counted with the table it belongs to)."""
    try:
        pages = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return None  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
    owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    out: dict[str, int] = {}
    for name, size in pages:
        table = owner.get(name, name)
        out[table] = out.get(table, 0) + size
    return out


def table_stats(conn: sqlite3.Connection) -> list[TableStats]:
    """Every table of the cache, largest first."""
    tables = [
        t
        for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    sizes = _page_bytes(conn)
    out = []
    for table in tables:
        rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        first = last = None
        if "time" in columns:
            first, last = conn.execute(
                f'SELECT min(time), max(time) FROM "{table}" WHERE time > 0'
            ).fetchone()
        out.append(TableStats(table, rows, None if sizes is None else sizes.get(table, 0), first, last))
    return sorted(out, key=lambda s: (-(s.bytes or 0), -s.rows, s.table))
