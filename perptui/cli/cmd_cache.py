"""`perptui cache stats|prune`: what the cache holds, and its retention applied now.

``stats`` lists rows, bytes and the time span of every table, the file and its WAL. ``prune`` runs every
retention step that is due (the app and the writers run them a step at a time as they write), then
checkpoints the WAL; ``--vacuum`` also rewrites the file without its free pages, so it shrinks on disk.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from perptui.config.settings import Settings
from perptui.domain.timeframes import iso_utc

from .context import db_path, open_store, settings_from_args
from .output import out, print_json, say


def file_bytes(path: Path) -> dict[str, int]:
    """Sizes on disk of the database and its -wal file (0 when absent)."""
    wal = path.with_name(path.name + "-wal")
    return {
        "file": path.stat().st_size if path.exists() else 0,
        "wal": wal.stat().st_size if wal.exists() else 0,
    }


def size_text(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} B"


def retention_json(settings: Settings) -> dict[str, int]:
    return settings.cache.model_dump()


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    path = Path(db_path(settings))
    if args.action == "stats":
        return _stats(args, settings, path)
    return _prune(args, settings, path)


def _stats(args: argparse.Namespace, settings: Settings, path: Path) -> int:
    with open_store(settings) as store:
        tables = store.table_stats()
    sizes = file_bytes(path)
    if args.json:
        files = {f"{k}_bytes": v for k, v in sizes.items()}
        tables_json = [t.as_dict() for t in tables]
        print_json({"path": str(path), **files, "tables": tables_json, "retention": retention_json(settings)})
        return 0
    table = Table(title=f"cache {path}", title_justify="left", header_style="bold")
    for name, justify in (("table", "left"), ("rows", "right"), ("size", "right"), ("from", "left"),
                          ("to", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]  # "left" and "right" only
    for t in tables:
        span = [iso_utc(x) if x is not None else "—" for x in (t.first, t.last)]
        table.add_row(t.table, f"{t.rows:,}", size_text(t.bytes), *span)
    out().print(table)
    c = settings.cache
    say(
        f"file {size_text(sizes['file'])}, WAL {size_text(sizes['wal'])}. Kept: tickers whole for "
        f"{c.tickers_full_hours} h then hourly for {c.tickers_hourly_days} days; equity whole for "
        f"{c.equity_full_days} days then hourly; {c.events_max:,} events over {c.events_days} days at most"
    )
    return 0


def _prune(args: argparse.Namespace, settings: Settings, path: Path) -> int:
    from perptui.services.sources import clock_for

    before = file_bytes(path)
    with open_store(settings) as store:
        pruned = store.prune_all(clock_for(settings).now_ms())
        if args.vacuum:
            store.vacuum()
    after = file_bytes(path)
    if args.json:
        print_json({"removed": {"tickers": pruned.tickers, "equity": pruned.equity, "events": pruned.events},
                    "vacuumed": bool(args.vacuum), "before_bytes": before, "after_bytes": after})  # fmt: skip
        return 0
    say(
        f"removed {pruned.tickers:,} ticker snapshots, {pruned.equity:,} equity snapshots and "
        f"{pruned.events:,} events; file {size_text(before['file'])} -> {size_text(after['file'])}, "
        f"WAL {size_text(before['wal'])} -> {size_text(after['wal'])}"
        + ("" if args.vacuum else " (--vacuum gives the free pages back to the disk)")
    )
    return 0
