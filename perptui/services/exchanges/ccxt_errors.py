"""Turn ccxt's exceptions into perptui's domain errors with one-line messages a trader can read.

ccxt messages carry the exchange id, the URL (with signatures for private calls) and the raw response
body. None of that is shown: only the exchange's own short reason (its ``msg`` field) when it has one.
Known secrets are scrubbed from anything that is kept, as a second line of defence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from types import ModuleType

from perptui.domain.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailable,
    PerptuiError,
    UnknownSymbol,
)

_MSG_RE = re.compile(r'"(?:msg|message|retMsg|sMsg|error_message)"\s*:\s*"([^"]{1,200})"')
_URL_RE = re.compile(r"https?://\S+")


def exchange_reason(message: str, secrets: Iterable[str] = ()) -> str:
    """The exchange's short reason from a ccxt message, or '' when there is none worth showing."""
    found = _MSG_RE.search(message)
    reason = found.group(1) if found else ""
    # A plain-text ccxt message without JSON or URLs (e.g. "binanceusdm does not have market symbol X").
    if not reason and "{" not in message and "<" not in message and not _URL_RE.search(message):
        reason = message
    reason = " ".join(reason.split())[:160]
    for secret in secrets:
        if secret and len(secret) >= 4:
            reason = reason.replace(secret, "***")
    return reason.rstrip(".")


def network_reason(exc: BaseException, ccxt: ModuleType) -> str:
    """A short phrase for a transient failure."""
    if isinstance(exc, ccxt.BadResponse):
        return "it sent a response perptui could not read"
    if isinstance(exc, ccxt.OperationFailed) and not isinstance(exc, ccxt.NetworkError):
        return "the exchange is busy"
    cause = exc.__cause__
    if isinstance(exc, ccxt.RequestTimeout) or isinstance(cause, TimeoutError):
        return "the request timed out"
    if cause is not None and (
        isinstance(cause, OSError) or any(c.__name__ == "ClientConnectionError" for c in type(cause).__mro__)
    ):
        return "the connection failed"
    if isinstance(exc, ccxt.RequestTimeout):
        return "the request timed out"
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return "the exchange is rate-limiting requests"
    if isinstance(exc, ccxt.OnMaintenance):
        return "the exchange is under maintenance"
    if isinstance(exc, ccxt.ExchangeNotAvailable):
        return "the exchange answered with a server error"
    return "the connection failed"


def is_retryable(exc: BaseException, ccxt: ModuleType) -> bool:
    """Transient: worth asking again after a wait.

    - network errors, timeouts, rate limits, 5xx without a body ccxt knows (``ccxt.NetworkError``);
    - ``ccxt.OperationFailed``, NetworkError's parent, which the exchanges' own error codes map to when
      the server is busy or overloaded (Binance's 503 ``{"code":-1001,"msg":"busy"}``, -1007 backend
      timeout, -1008 server busy);
    - ``ccxt.BadResponse``: a 2xx body that is not JSON (an HTML page from a proxy, a truncated body;
      the adapter raises it for those).

    Never a refusal: bad keys, an unknown symbol, insufficient funds or any other 4xx the exchange
    explains are ``ccxt.ExchangeError`` subclasses other than BadResponse.
    """
    return isinstance(exc, ccxt.OperationFailed | ccxt.BadResponse)


def translate(
    exc: BaseException,
    ccxt: ModuleType,
    exchange_id: str,
    what: str,
    *,
    symbol: str | None = None,
    known_symbols: list[str] | None = None,
    attempts: int = 1,
    secrets: Iterable[str] = (),
) -> PerptuiError:
    """The domain error for ``exc``, raised while ``what`` (e.g. "loading markets")."""
    if isinstance(exc, PerptuiError):
        return exc
    secrets = list(secrets)
    text = str(exc)
    reason = exchange_reason(text, secrets)
    suffix = f": {reason}" if reason else ""
    if is_retryable(exc, ccxt):
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        if isinstance(exc, ccxt.BadResponse):
            return ExchangeUnavailable(
                f"{exchange_id} sent a response perptui could not read while {what} (gave up after "
                f"{tries}); try again later"
            )
        return ExchangeUnavailable(
            f"{exchange_id} could not be reached while {what} ({network_reason(exc, ccxt)}; gave up after "
            f"{tries}); check the connection or try again later"
        )
    if isinstance(exc, ccxt.AuthenticationError):
        if "credential" in text and "requires" in text:
            return AuthenticationError(
                f"{what} on {exchange_id} needs an API key and secret; add them to the exchange settings"
            )
        return AuthenticationError(
            f"{exchange_id} rejected the API key while {what}{suffix}; check the key, the secret and "
            "the key's permissions"
        )
    if isinstance(exc, ccxt.BadSymbol):
        from perptui.domain.symbols import resolve_symbol

        name = symbol or "?"
        if known_symbols:
            try:
                resolve_symbol(name, known_symbols, exchange_id)
            except UnknownSymbol as unknown:
                return unknown
        return UnknownSymbol(name, [], exchange_id)
    if isinstance(exc, ccxt.NotSupported):
        return ExchangeError(f"{exchange_id} does not support {what} (through ccxt)")
    if isinstance(exc, ccxt.BaseError):
        return ExchangeError(f"{exchange_id} refused {what}{suffix}")
    if isinstance(
        exc, json.JSONDecodeError | ValueError | TypeError | KeyError | AttributeError | IndexError
    ):
        # ccxt parses a body it did not expect (malformed or truncated JSON, an HTML error page).
        return ExchangeError(
            f"{exchange_id} sent a response perptui could not read while {what}; try again later"
        )
    return ExchangeError(f"{exchange_id} failed while {what} ({type(exc).__name__})")
