"""Symbol names: exchange ids like ``BTCUSDT`` and ccxt unified symbols like ``BTC/USDT:USDT``."""

from __future__ import annotations

import difflib

from perptui.domain.errors import UnknownSymbol

# Longest first, so BTCFDUSD is read as BTC + FDUSD, not BTCFD + USD.
KNOWN_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "USD")
#: The demo market's bases are real ones with this suffix (BTCDEMO).
DEMO_SUFFIX = "DEMO"


def split_exchange_id(exchange_id: str) -> tuple[str, str] | None:
    """``'BTCUSDT'`` -> ``('BTC', 'USDT')``; ``None`` when no known quote currency ends it."""
    raw = exchange_id.strip().upper().replace("-", "").replace("_", "").replace("/", "")
    for quote in KNOWN_QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return raw[: -len(quote)], quote
    return None


def perp_symbol(base: str, quote: str, settle: str | None = None) -> str:
    """The unified symbol of a linear perpetual: ``BTC/USDT:USDT``."""
    return f"{base}/{quote}:{settle or quote}"


def unified_perp(name: str) -> str | None:
    """Map a user's or a file's name of a linear perp to its unified symbol.

    Accepts ``BTC/USDT:USDT``, ``BTC/USDT``, ``BTCUSDT``, ``BTC-USDT``, ``btcusdt``. ``None`` when the
    name cannot be read.
    """
    text = name.strip().upper()
    if not text:
        return None
    if "/" in text:
        pair, _, settle = text.partition(":")
        base, _, quote = pair.partition("/")
        if not base or not quote:
            return None
        return perp_symbol(base, quote, settle or quote)
    parts = split_exchange_id(text)
    return perp_symbol(*parts) if parts else None


def spot_of(perp: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTC/USDT``."""
    return perp.partition(":")[0]


def resolve_symbol(name: str, known: list[str], where: str = "") -> str:
    """Find ``name`` among ``known`` unified symbols, leniently; raise UnknownSymbol with suggestions.

    A bare base (``BTCDEMO``) resolves when exactly one known symbol has that base; when it matches
    several (``BTC/USDT:USDT`` and ``BTC/USDC:USDC``) they are the suggestions.
    """
    candidate = unified_perp(name) or name.strip().upper()
    if candidate in known:
        return candidate
    upper = {k.upper(): k for k in known}
    if candidate.upper() in upper:
        return upper[candidate.upper()]
    base = candidate.partition("/")[0]
    same_base = [k for k in known if k.upper().startswith(base.upper() + "/")]
    if "/" not in candidate and len(same_base) == 1:
        return same_base[0]
    # The demo market names its assets after real ones (BTCDEMO): BTC and BTCUSDT mean BTCDEMO there.
    demo_twin = [k for k in known if k.upper().startswith(base.upper() + DEMO_SUFFIX + "/")]
    if not same_base and len(demo_twin) == 1:
        return demo_twin[0]
    close = difflib.get_close_matches(candidate, known, n=3, cutoff=0.6)
    if not close:
        close = same_base[:3]
    if not same_base and base:
        # No market has this base: markets whose base contains it come first (BTC -> BTCDEMO,
        # PEPE -> 1000PEPE), then the close spellings.
        close = list(dict.fromkeys(_similar_bases(base, known) + close))[:3]
    raise UnknownSymbol(name, close, where)


def _similar_bases(base: str, known: list[str]) -> list[str]:
    """Symbols whose base starts with or contains ``base``, else whose base is spelled nearly like it.

    ``BTC`` -> ``BTCDEMO/USDT:USDT``; ``PEPE`` -> ``1000PEPE/USDT:USDT``; ``ETHH`` -> ``ETH/USDT:USDT``.
    """
    by_base: dict[str, str] = {}
    for k in known:
        by_base.setdefault(k.partition("/")[0].upper(), k)
    key = base.upper()
    prefixed = sorted((b for b in by_base if b.startswith(key)), key=len)
    inside = sorted((b for b in by_base if key in b), key=len)
    picked = list(dict.fromkeys(prefixed + inside))[:3]
    if not picked:
        picked = difflib.get_close_matches(key, list(by_base), n=3, cutoff=0.6)
    return [by_base[b] for b in picked]
