"""Opening the SQLite file: refuse what is not ours without writing a byte, then set the pragmas.

Order matters. An existing file is checked before SQLite may write anything to it:

1. the 16-byte header must say ``SQLite format 3`` (read with plain ``open``, not SQLite);
2. the connection runs with ``PRAGMA query_only`` while we read ``application_id`` and ``user_version``
   (a newer schema or another application's database is refused here) and run ``PRAGMA quick_check``;
3. only then ``journal_mode=WAL`` (which rewrites two header bytes of a rollback-journal file) and the
   migrations run.

Pragmas, and why:

- ``journal_mode=WAL``: readers (the TUI) never block the writer (a backfill), and a killed writer leaves
  at most an uncommitted WAL tail that SQLite discards on the next open.
- ``synchronous=NORMAL``: in WAL mode this cannot corrupt the database; it only skips the fsync on each
  commit, so an OS crash or power cut (not a killed process) may lose the last few transactions. For a
  cache that a rerun of ``fetch`` refills, that is the right trade for ~10x faster small commits.
- ``busy_timeout=5000``: a second perptui waits up to 5 s for the write lock instead of failing at once.
- ``journal_size_limit``: the WAL file shrinks back after a big import instead of staying at its peak.

A new database is created owner-only (0600, in a 0700 folder when the folder is new too).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from perptui.domain.errors import StoreError

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
#: ``PRAGMA application_id`` of a perptui cache: ASCII "perp".
APPLICATION_ID = 0x70657270
BUSY_TIMEOUT_MS = 5000
#: Files up to this size get a full ``PRAGMA quick_check`` on every open (a few ms per MiB); larger
#: ones only when a migration is about to write. Corruption found later still raises StoreError.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024

_MOVE_AWAY = "perptui left it untouched: move it away (or point --db / PERPTUI_DB elsewhere) and rerun"


def corrupt_message(path: Path | None, detail: str) -> str:
    detail = " ".join(detail.split())  # one line, whatever SQLite said
    if len(detail) > 160:
        detail = detail[:160] + "..."
    return f"{path or ':memory:'} is a damaged SQLite database ({detail}); {_MOVE_AWAY}"


def create_private(path: Path) -> None:
    """Create the database file empty (SQLite's empty database), owner-only, and its folder 0700 when it
    is created here (an existing folder keeps its mode). SQLite gives the -wal, -shm and -journal files
    the database file's mode, so all of them stay 0600: the cache holds the trader's balances and fills."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {path.parent} for the database: {exc.strerror or exc}"
        ) from None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another perptui created it meanwhile: SQLite opens it as it is
    except OSError as exc:
        raise StoreError(f"cannot create the database {path}: {exc.strerror or exc}") from None


def tighten_modes(path: Path) -> None:
    """Make a cache created by an older perptui (0644: the trader's balances and fills readable by every
    user of the machine) owner-only, with its -wal and -shm files; a file owned by someone else is left
    as it is."""
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = f.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(f, mode & 0o700)
                log.info("%s was readable by others (mode %o): now %o", f, mode, mode & 0o700)
        except OSError:
            continue


def _connect(target: str | Path) -> sqlite3.Connection:
    # isolation_level=None: autocommit; Store issues BEGIN IMMEDIATE / COMMIT itself.
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def check_header(path: Path) -> None:
    """Raise StoreError unless ``path`` is empty or starts like an SQLite database. Reads 100 bytes."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a SQLite database: give --db a file path")
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc.strerror or exc}") from None
    if not head:
        return  # SQLite treats an empty file as an empty database
    if not head.startswith(SQLITE_HEADER) or len(head) < 100:
        preview = head[:16].decode("ascii", "replace").encode("unicode_escape").decode()
        raise StoreError(f"{path} is not a SQLite database (it starts with {preview!r}); {_MOVE_AWAY}")


def read_meta(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
    """(application_id, user_version, names of user tables). Reads only."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return app_id, version, tables


def quick_check(conn: sqlite3.Connection, path: Path | None) -> None:
    rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        raise StoreError(corrupt_message(path, "; ".join(str(r[0]) for r in rows)))


def apply_pragmas(conn: sqlite3.Connection, *, in_memory: bool) -> None:
    if not in_memory:
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA journal_size_limit = 67108864")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")  # 32 MiB page cache


def connect(
    path: str | Path, *, verify: bool | None, latest_version: int
) -> tuple[sqlite3.Connection, Path | None]:
    """Open (creating when absent) and validate the database; return the connection and its path.

    ``verify``: True = always ``quick_check`` an existing file, False = never, None = when the file is
    small or about to be migrated. Nothing is written to an existing file that fails a check.
    """
    if str(path) == ":memory:":
        conn = _connect(":memory:")
        apply_pragmas(conn, in_memory=True)
        return conn, None
    p = Path(path).expanduser().absolute()
    existed = p.exists()
    if existed:
        check_header(p)
    else:
        create_private(p)
    try:
        conn = _connect(p)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {p}: {exc}") from None
    try:
        if existed:
            conn.execute("PRAGMA query_only = 1")
            app_id, version, tables = read_meta(conn)
            check_ours(p, app_id, version, tables, latest_version)
            tighten_modes(p)
            size = p.stat().st_size
            if verify or (verify is None and (size <= QUICK_CHECK_MAX_BYTES or version < latest_version)):
                quick_check(conn, p)
            conn.execute("PRAGMA query_only = 0")
        apply_pragmas(conn, in_memory=False)
    except StoreError:
        conn.close()
        raise
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(
                f"{p} is locked by another program (another perptui?); wait for it or use another --db"
            ) from None
        raise StoreError(f"cannot open the database {p}: {exc}") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(corrupt_message(p, str(exc))) from None
    return conn, p


def check_ours(path: Path | None, app_id: int, version: int, tables: list[str], latest_version: int) -> None:
    """Refuse another application's database and a schema newer than this perptui knows."""
    if app_id != APPLICATION_ID and (version or tables):
        shown = ", ".join(tables[:5]) + (" ..." if len(tables) > 5 else "")
        raise StoreError(
            f"{path} is a SQLite database but not a perptui cache (tables: {shown or 'none'}, "
            f"application_id {app_id}); {_MOVE_AWAY}"
        )
    if version > latest_version:
        raise StoreError(
            f"{path} was written by a newer perptui (schema version {version}; this one knows up to "
            f"{latest_version}): upgrade perptui (pip install -U perptui) or use another --db"
        )
