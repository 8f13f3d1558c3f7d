"""`perptui import`: load funding, OHLCV and leverage-tier files into the cache."""

from __future__ import annotations

import argparse
import difflib

from perptui.domain.errors import UsageError
from perptui.domain.timeframes import timeframe_ms

from .context import open_store, settings_from_args
from .output import err, print_json, say

SHOWN_BAD_ROWS = 20


def _check_exchange(exchange: str) -> None:
    """Files are kept under the ccxt id they come from: a name ccxt does not know would become a new,
    unreachable exchange in the cache."""
    import ccxt

    if exchange in ccxt.exchanges:
        return
    shown = repr(exchange if len(exchange) <= 40 else exchange[:40] + "...")
    close = difflib.get_close_matches(exchange.lower(), ccxt.exchanges, n=3, cutoff=0.6)
    hint = "; did you mean " + " or ".join(close) + "?" if close else ""
    raise UsageError(f"--exchange {shown} is not a ccxt exchange id{hint} (e.g. binanceusdm, bybit, okx)")


def run(args: argparse.Namespace) -> int:
    from perptui.services import importers

    if not any((args.funding, args.ohlcv, args.spot_ohlcv, args.tiers)):
        raise UsageError("nothing to import: give --funding, --ohlcv, --spot-ohlcv or --tiers")
    if (args.ohlcv or args.spot_ohlcv) and not args.timeframe:
        raise UsageError("--ohlcv and --spot-ohlcv need --timeframe (the bar size of the files, e.g. 8h)")
    if args.timeframe:
        timeframe_ms(args.timeframe)
    symbol = getattr(args, "symbol", None)
    replace = bool(getattr(args, "replace", False))
    if symbol is not None and args.tiers and not (args.funding or args.ohlcv or args.spot_ohlcv):
        raise UsageError(
            "--symbol names the market of CSV files without a symbol column; tiers files name theirs"
        )
    settings = settings_from_args(args)
    if not settings.exchange:
        raise UsageError("import needs --exchange: the ccxt id the files come from, e.g. binanceusdm")
    exchange = settings.exchange
    _check_exchange(exchange)
    jobs = [
        (
            "funding",
            args.funding,
            lambda s, p: importers.import_funding(s, exchange, p, replace=replace, symbol=symbol),
        ),
        (
            "ohlcv",
            args.ohlcv,
            lambda s, p: importers.import_ohlcv(
                s, exchange, p, args.timeframe, replace=replace, symbol=symbol
            ),
        ),
        (
            "spot_ohlcv",
            args.spot_ohlcv,
            lambda s, p: importers.import_ohlcv(
                s, exchange, p, args.timeframe, spot=True, replace=replace, symbol=symbol
            ),
        ),
        ("tiers", args.tiers, lambda s, p: importers.import_tiers(s, exchange, p, replace=replace)),
    ]
    for kind, path, _ in jobs:
        if path is not None and not path.exists():
            raise UsageError(f"no such file or folder: {path}")
        if path is not None and kind != "tiers":
            importers.check_csv_files(
                path, "funding" if kind == "funding" else "ohlcv", symbol, kind == "spot_ohlcv"
            )
    results = {}
    with open_store(settings) as store:
        for kind, path, do_import in jobs:
            if path is not None:
                results[kind] = do_import(store, path)
    if args.json:
        print_json({kind: _as_json(r) for kind, r in results.items()})
        return 0
    for kind, r in results.items():
        _print(kind, r)
    return 0


def _rows(rows: list) -> list[dict[str, object]]:
    return [{"file": str(b.file), "line": b.line, "reason": b.reason} for b in rows]


def _as_json(r) -> dict[str, object]:
    return {
        "files": r.files,
        "rows_read": r.rows_read,
        "rows_added": r.rows_added,
        "bad_rows": _rows(r.bad_rows),
        "duplicates": _rows(r.duplicates),
        "conflicts": {"count": r.conflicts, "replaced": r.replaced, "first": _rows(r.conflict_examples)},
        "warnings": _rows(r.warnings),
    }


def _print(kind: str, r) -> None:
    extra = f", {len(r.duplicates):,} duplicate" if r.duplicates else ""
    if r.conflicts:
        fate = "replaced" if r.replaced else "kept the stored values (--replace overwrites them)"
        extra += f", {r.conflicts:,} in conflict with the cache: {fate}"
    say(
        f"{kind}: {r.files} file(s), {r.rows_read:,} rows read, {r.rows_added:,} added, "
        f"{len(r.bad_rows):,} bad{extra}"
    )
    for label, rows in (("bad row", r.bad_rows), ("duplicate", r.duplicates), ("warning", r.warnings)):
        for bad in rows[:SHOWN_BAD_ROWS]:
            err().print(
                f"  {label} {bad.file}:{bad.line}: {bad.reason}", markup=False, style="yellow", soft_wrap=True
            )
        if len(rows) > SHOWN_BAD_ROWS:
            err().print(f"  ... and {len(rows) - SHOWN_BAD_ROWS:,} more", markup=False)
    for c in r.conflict_examples:
        err().print(f"  conflict {c.file}:{c.line}: {c.reason}", markup=False, style="yellow", soft_wrap=True)
    if r.conflicts > len(r.conflict_examples):
        err().print(f"  ... and {r.conflicts - len(r.conflict_examples):,} more conflicts", markup=False)
