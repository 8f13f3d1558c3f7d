"""`perptui import`: load funding, OHLCV and leverage-tier files into the cache."""

from __future__ import annotations

import argparse

from perptui.domain.errors import UsageError
from perptui.domain.timeframes import timeframe_ms

from .context import open_store, settings_from_args
from .output import err, print_json, say

SHOWN_BAD_ROWS = 20


def run(args: argparse.Namespace) -> int:
    from perptui.services import importers

    if not any((args.funding, args.ohlcv, args.spot_ohlcv, args.tiers)):
        raise UsageError("nothing to import: give --funding, --ohlcv, --spot-ohlcv or --tiers")
    if (args.ohlcv or args.spot_ohlcv) and not args.timeframe:
        raise UsageError("--ohlcv and --spot-ohlcv need --timeframe (the bar size of the files, e.g. 8h)")
    if args.timeframe:
        timeframe_ms(args.timeframe)
    settings = settings_from_args(args)
    if not settings.exchange:
        raise UsageError("import needs --exchange: the ccxt id the files come from, e.g. binanceusdm")
    jobs = [
        ("funding", args.funding, lambda s, p: importers.import_funding(s, settings.exchange, p)),
        ("ohlcv", args.ohlcv, lambda s, p: importers.import_ohlcv(s, settings.exchange, p, args.timeframe)),
        (
            "spot_ohlcv",
            args.spot_ohlcv,
            lambda s, p: importers.import_ohlcv(s, settings.exchange, p, args.timeframe, spot=True),
        ),
        ("tiers", args.tiers, lambda s, p: importers.import_tiers(s, settings.exchange, p)),
    ]
    for _, path, _ in jobs:
        if path is not None and not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    results = {}
    with open_store(settings) as store:
        for kind, path, do_import in jobs:
            if path is not None:
                results[kind] = do_import(store, path)
    if args.json:
        print_json(
            {
                kind: {
                    "files": r.files,
                    "rows_read": r.rows_read,
                    "rows_added": r.rows_added,
                    "bad_rows": [
                        {"file": str(b.file), "line": b.line, "reason": b.reason} for b in r.bad_rows
                    ],
                }
                for kind, r in results.items()
            }
        )
        return 0
    for kind, r in results.items():
        say(
            f"{kind}: {r.files} file(s), {r.rows_read:,} rows read, {r.rows_added:,} added, "
            f"{len(r.bad_rows):,} bad"
        )
        for bad in r.bad_rows[:SHOWN_BAD_ROWS]:
            err().print(f"  bad row {bad.file}:{bad.line}: {bad.reason}", markup=False, style="yellow")
        if len(r.bad_rows) > SHOWN_BAD_ROWS:
            err().print(f"  ... and {len(r.bad_rows) - SHOWN_BAD_ROWS:,} more bad rows", markup=False)
    return 0
