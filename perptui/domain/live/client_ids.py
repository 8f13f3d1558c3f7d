"""Client order ids derived from the ticket, so the same ticket always names the same orders.

The id is what makes a retry safe: after a timeout the order is looked up by it before anything is sent
again, and the exchange itself refuses a second order with an id it already holds. Binance accepts
``[.A-Z:/a-z0-9_-]{1,36}``, Bybit's ``orderLinkId`` up to 36 characters; ours are 16 to 20 of
``[a-z0-9-]``: ``pt`` + 12 hex digits of the ticket's hash + ``-`` + the leg (``e``, ``s``, ``t1`` ...),
and a replacement's number (``s2``: the second stop of the ticket).
"""

from __future__ import annotations

import hashlib
import json
import re

PREFIX = "pt"
_ID_RE = re.compile(r"pt[0-9a-f]{12}-[a-z][a-z0-9]{0,5}")


def ticket_id(fields: dict[str, object]) -> str:
    """12 hex digits naming a ticket: the hash of its fields (exchange, symbol, side, quantity, prices)
    and the time the trader confirmed it, so two trades with the same figures still differ."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def client_order_id(ticket: str, leg: str) -> str:
    """The id of ``leg`` (``e`` entry, ``s`` stop, ``t1`` first target, ``c`` close, ``s2`` the stop's
    first replacement ...) of ``ticket``."""
    cid = f"{PREFIX}{ticket}-{leg}"
    if not _ID_RE.fullmatch(cid):
        raise ValueError(f"not a client order id: {cid!r}")
    return cid


def is_ours(client_id: str | None) -> bool:
    """Whether an order on the exchange was placed by perptui (its id has our form)."""
    return bool(client_id) and _ID_RE.fullmatch(client_id or "") is not None


def ticket_of(client_id: str) -> str | None:
    """The ticket an id of ours belongs to."""
    return client_id[len(PREFIX) : len(PREFIX) + 12] if is_ours(client_id) else None
