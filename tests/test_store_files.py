"""Store: files that are not ours are refused and left byte-for-byte untouched; schema migrations."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from perptui.domain.errors import StoreError
from perptui.domain.types import FundingPrint
from perptui.services.store import Store, latest_version
from perptui.services.store import migrations as migrations_module
from perptui.services.store.migrations import Migration

BTC = "BTC/USDT:USDT"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(path: Path, match: str) -> StoreError:
    before = digest(path)
    siblings = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(StoreError, match=match) as info:
        Store.open(path)
    assert digest(path) == before, "the file was modified"
    assert sorted(p.name for p in path.parent.iterdir()) == siblings, "a -wal/-shm/-journal was left"
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return info.value


def make_cache(path: Path, rows: int = 2000) -> None:
    with Store.open(path) as store:
        prints = [FundingPrint(BTC, 1_600_000_000_000 + i * 3_600_000, 1e-5 * i) for i in range(rows)]
        store.upsert_funding("binanceusdm", prints)


def test_text_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("fundingTime,fundingRate\n1,2\n" * 50)
    err = assert_refused(path, "not a SQLite database")
    assert "move it away" in str(err)


def test_short_and_binary_files_are_refused_untouched(tmp_path: Path) -> None:
    short = tmp_path / "short.db"
    short.write_bytes(b"SQLite format 3\x00abc")  # a header, but truncated
    assert_refused(short, "not a SQLite database")
    binary = tmp_path / "random.db"
    binary.write_bytes(bytes(range(256)) * 64)
    assert_refused(binary, "not a SQLite database")


def test_corrupt_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    make_cache(path)
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    # Keep page 1 (header and schema) intact; scribble over the table's pages.
    data[3 * 4096 : 6 * 4096] = b"\xa5" * (3 * 4096)
    path.write_bytes(bytes(data))
    assert_refused(path, "damaged SQLite database")


def test_corrupt_header_page_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    make_cache(path)
    data = bytearray(path.read_bytes())
    data[16:18] = b"\x00\x03"  # page size 3: invalid
    path.write_bytes(bytes(data))
    assert_refused(path, "damaged SQLite database")


def test_rollback_journal_database_of_another_program_is_not_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('a')")
    conn.commit()
    conn.close()
    err = assert_refused(path, "not a perptui cache")
    assert "customers" in str(err)


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    make_cache(path, rows=10)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    err = assert_refused(path, "newer perptui")
    assert "upgrade perptui" in str(err)


def test_folder_at_the_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_empty_file_becomes_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    path.touch()
    with Store.open(path) as store:
        assert store.schema_version == latest_version()


def test_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    make_cache(path, rows=10)
    with Store.open(path, verify=True) as store:
        assert len(store.load_funding("binanceusdm", BTC)) == 10
        assert store.integrity_check() == "ok"


def test_migration_from_an_older_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache.db"
    make_cache(path, rows=10)  # written at version 1
    v2 = Migration(
        latest_version() + 1,
        "test: a column for the funding interval of each print",
        ("ALTER TABLE funding ADD COLUMN interval_hours REAL",),
        run=lambda conn: conn.execute("UPDATE funding SET interval_hours = 1"),
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, v2])
    with Store.open(path) as store:
        assert store.schema_version == v2.version
        assert len(store.load_funding("binanceusdm", BTC)) == 10
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM funding WHERE interval_hours = 1").fetchone()[0] == 10
    conn.close()


def test_failed_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    make_cache(path, rows=10)
    old = latest_version()
    bad = Migration(old + 1, "test: broken", ("ALTER TABLE funding ADD COLUMN x REAL", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations_module, "MIGRATIONS", [*migrations_module.MIGRATIONS, bad])
    with pytest.raises(StoreError, match=f"left at version {old}"):
        Store.open(path)
    monkeypatch.undo()
    with Store.open(path) as store:
        assert store.schema_version == old
        assert len(store.load_funding("binanceusdm", BTC)) == 10
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(funding)")]
    conn.close()
    assert "x" not in columns


def test_a_second_connection_waits_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with Store.open(path) as a, Store.open(path) as b:
        with a.transaction():
            a.upsert_funding("x", [FundingPrint(BTC, 1_600_000_000_000, 1e-4)])
            assert b.load_funding("x", BTC) == []  # WAL: readers see the last commit, never blocked
        assert len(b.load_funding("x", BTC)) == 1


def test_a_new_cache_its_wal_shm_and_its_new_folder_are_owner_only(tmp_path: Path) -> None:
    """The cache holds balances, fills and positions: nobody else on the machine may read it."""
    folder = tmp_path / "data" / "perptui"
    path = folder / "perptui.db"
    old = os.umask(0o022)  # the usual umask, which gave 0644 and 0755
    try:
        with Store.open(path) as store:
            store.upsert_funding("binanceusdm", [FundingPrint(BTC, 1_600_000_000_000, 1e-5)])
            files = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    finally:
        os.umask(old)
    assert files == {"perptui.db": 0o600, "perptui.db-wal": 0o600, "perptui.db-shm": 0o600}
    assert folder.stat().st_mode & 0o777 == 0o700


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    Store.open(tmp_path / "cache.db").close()
    assert tmp_path.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "cache.db").stat().st_mode & 0o777 == 0o600


def test_a_cache_an_older_perptui_left_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with Store.open(path) as store:
        store.upsert_funding("binanceusdm", [FundingPrint(BTC, 1_600_000_000_000, 1e-5)])
    path.chmod(0o644)  # what versions before issue 19 created
    with Store.open(path) as store:
        assert len(store.load_funding("binanceusdm", BTC)) == 1
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert set(modes.values()) == {0o600}, modes


def test_another_programs_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
    path.chmod(0o644)
    with pytest.raises(StoreError):
        Store.open(path)
    assert path.stat().st_mode & 0o777 == 0o644
