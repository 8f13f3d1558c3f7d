"""Markets and their leverage tiers (maintenance-margin brackets)."""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Sequence

from perptui.domain.tier_check import TierProblem, check_tiers
from perptui.domain.types import LeverageTier, Market

log = logging.getLogger(__name__)

#: ``tiers.source`` of a conservative default; never replaces tiers from the exchange or a file.
APPROXIMATE = "approximate"

_MARKET_COLUMNS = (
    "symbol, id, base, quote, settle, contract_size, amount_step, price_tick, min_qty, max_qty, "
    "min_notional, taker_fee, maker_fee, max_leverage, funding_interval_hours, spot_symbol, active"
)


def upsert_markets(
    conn: sqlite3.Connection, exchange: str, markets: Sequence[Market], fetched_at: int
) -> int:
    rows = [
        (
            exchange,
            m.symbol,
            m.id,
            m.base,
            m.quote,
            m.settle,
            m.contract_size,
            m.amount_step,
            m.price_tick,
            m.min_qty,
            m.max_qty,
            m.min_notional,
            m.taker_fee,
            m.maker_fee,
            m.max_leverage,
            m.funding_interval_hours,
            m.spot_symbol,
            int(m.active),
            fetched_at,
        )
        for m in markets
    ]
    conn.executemany(
        f"INSERT OR REPLACE INTO markets (exchange, {_MARKET_COLUMNS}, fetched_at) "
        f"VALUES ({', '.join('?' * 19)})",
        rows,
    )
    for m in markets:
        if m.tiers:
            source = APPROXIMATE if m.tiers_approximate else "exchange"
            upsert_tiers(conn, exchange, m.symbol, m.tiers, source, fetched_at)
    return len(rows)


def load_markets(conn: sqlite3.Connection, exchange: str) -> list[Market]:
    tiers = load_tiers(conn, exchange, None)
    out = []
    for row in conn.execute(
        f"SELECT {_MARKET_COLUMNS} FROM markets WHERE exchange = ? ORDER BY symbol", (exchange,)
    ):
        symbol = row[0]
        market_tiers, source = tiers.get(symbol, ([], ""))
        out.append(
            Market(  # type: ignore[misc]  # row[:-1] is exactly the 16 columns before `active`
                exchange,
                *row[:-1],
                active=bool(row[-1]),
                tiers=tuple(market_tiers),
                tiers_approximate=source == APPROXIMATE,
            )
        )
    return out


def upsert_tiers(
    conn: sqlite3.Connection,
    exchange: str,
    symbol: str,
    tiers: Sequence[LeverageTier],
    source: str,
    fetched_at: int,
    *,
    replace: bool = False,
) -> int:
    """Replace the symbol's brackets as a whole; return the tier rows written (0 when kept).

    The stored set is kept when the new one is identical (only ``fetched_at`` moves forward), older
    (``fetched_at`` earlier, e.g. importing the 2022 file after the 2024 one), or approximate while
    the stored set is real; ``replace`` (an import's --replace) overwrites an older set too. Brackets
    pass the tier check first (``cum`` recomputed where it contradicts them); an unusable set raises
    TierProblem and nothing is written (callers check before).
    """
    tiers = check_tiers(tiers).tiers
    old = conn.execute(
        "SELECT min_notional, max_notional, mmr, maint_amount, max_leverage, source, fetched_at "
        "FROM tiers WHERE exchange = ? AND symbol = ? ORDER BY tier",
        (exchange, symbol),
    ).fetchall()
    new = [
        (
            t.min_notional,
            None if math.isinf(t.max_notional) else t.max_notional,
            t.mmr,
            t.maint_amount,
            t.max_leverage,
        )
        for t in tiers
    ]
    if old:
        old_source, old_fetched = old[0][5], old[0][6]
        if source == APPROXIMATE and old_source != APPROXIMATE:
            return 0
        newer_or_real = replace or (old_source == APPROXIMATE and source != APPROXIMATE)
        if not newer_or_real and fetched_at < old_fetched:
            return 0
        if [r[:5] for r in old] == new:
            conn.execute(
                "UPDATE tiers SET fetched_at = max(fetched_at, ?), source = ? "
                "WHERE exchange = ? AND symbol = ?",
                (fetched_at, source, exchange, symbol),
            )
            return 0
        conn.execute("DELETE FROM tiers WHERE exchange = ? AND symbol = ?", (exchange, symbol))
    conn.executemany(
        "INSERT INTO tiers (exchange, symbol, tier, min_notional, max_notional, mmr, maint_amount, "
        "max_leverage, source, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(exchange, symbol, i + 1, *row, source, fetched_at) for i, row in enumerate(new)],
    )
    return len(new)


def load_tiers(
    conn: sqlite3.Connection, exchange: str, symbols: Sequence[str] | None
) -> dict[str, tuple[list[LeverageTier], str]]:
    """symbol -> (brackets in order, source)."""
    sql = (
        "SELECT symbol, min_notional, max_notional, mmr, maint_amount, max_leverage, source "
        "FROM tiers WHERE exchange = ?"
    )
    args: list[object] = [exchange]
    if symbols is not None:
        wanted = list(dict.fromkeys(symbols))
        if not wanted:
            return {}
        sql += f" AND symbol IN ({', '.join('?' * len(wanted))})"
        args += wanted
    out: dict[str, tuple[list[LeverageTier], str]] = {}
    for symbol, lo, hi, mmr, cum, lev, source in conn.execute(sql + " ORDER BY symbol, tier", args):
        entry = out.get(symbol)
        if entry is None:
            entry = out[symbol] = ([], source)
        entry[0].append(LeverageTier(lo, math.inf if hi is None else hi, mmr, cum, lev))
    return {
        symbol: checked for symbol, entry in out.items() if (checked := _checked(exchange, symbol, *entry))
    }


def _checked(
    exchange: str, symbol: str, tiers: list[LeverageTier], source: str
) -> tuple[list[LeverageTier], str] | None:
    """Cached brackets through the tier check (rows written before it existed may hold a ``cum`` of
    -inf): recomputed where they contradict themselves, left out (as if never cached) when unusable."""
    try:
        result = check_tiers(tiers)
    except TierProblem as exc:
        log.warning("%s %s: cached leverage tiers ignored: %s", exchange, symbol, exc)
        return None
    if result.warning:
        log.warning("%s %s: cached leverage tiers: %s", exchange, symbol, result.warning)
    return list(result.tiers), source
