"""Target URLs are secrets: :func:`mask_target` for showing one, :func:`scrub` for any text that may hold
one, and a filter that scrubs the records of Apprise's and urllib3's loggers (Apprise logs full URLs and
payloads at DEBUG, urllib3 the request path, where webhook tokens live)."""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_HOST_RE = re.compile(r"^(?:localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")


def _split(url: str) -> tuple[str, str, str, str, str] | None:
    """``(scheme, userinfo, hostport, path, query)`` of ``url``, by hand: Apprise URLs often have a
    "host" that is a token (``tgram://123:ABC/...``), which ``urlsplit`` cannot take apart."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not scheme:
        return None
    rest = rest.split("#", 1)[0]
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        userinfo = ""
    return scheme, userinfo, hostport, slash + path, query


def _shown_host(hostport: str) -> str | None:
    """``hostport`` when it names a host a trader recognises (a dotted name, an IP, localhost) with an
    optional numeric port; None when it is a token in the host's place."""
    host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not colon:
        host, port = hostport, ""
    if _HOST_RE.match(host) and (not colon or port.isdigit()):
        return hostport
    return None


def mask_target(url: str) -> str:
    """``url`` safe to show: the scheme and a real host (and port) kept, everything that may be a secret
    (user and password, a token in the host's place, the path, query values) replaced by ``***``.
    ``ntfy://user:pass@ntfy.sh/topic`` -> ``ntfy://***@ntfy.sh/***``; ``tgram://123:ABC/456`` ->
    ``tgram://***/***``; text that is not a URL -> ``***``."""
    parts = _split(url)
    if parts is None:
        return "***"
    scheme, userinfo, hostport, path, query = parts
    shown = f"{scheme}://" + ("***@" if userinfo else "") + (_shown_host(hostport) or "***")
    if path.strip("/"):
        shown += "/***"
    if query:
        keys = [k for k, _ in parse_qsl(query, keep_blank_values=True)]
        shown += "?" + "&".join(f"{quote(k, safe='')}=***" for k in keys) if keys else "?***"
    return shown


def secret_pieces(url: str) -> set[str]:
    """Every part of ``url`` that :func:`mask_target` hides, as it may appear in a library's log line
    (plain, percent-decoded, percent-encoded; the Basic authorization of its user and password)."""
    parts = _split(url)
    if parts is None:
        return {url.strip()} if url.strip() else set()
    _, userinfo, hostport, path, query = parts
    raw: set[str] = {url.strip(), path}
    if userinfo:
        user, _, password = userinfo.partition(":")
        raw |= {userinfo, user, password}
        pair = f"{unquote(user)}:{unquote(password)}"
        raw.add(base64.b64encode(pair.encode()).decode())
    if _shown_host(hostport) is None:
        raw |= {hostport, *hostport.split(":")}
    raw |= set(path.split("/"))
    raw |= {v for _, v in parse_qsl(query, keep_blank_values=True)}
    pieces: set[str] = set()
    for piece in raw:
        pieces |= {piece, unquote(piece), quote(piece, safe="")}
    # Short pieces ("/", "v1") are no secret and would blank ordinary words out of every message.
    return {p for p in pieces if len(p) >= 3}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every URL masked and every secret piece replaced by ``***`` (longest first, so a
    token is not half-replaced by a shorter piece inside it)."""
    text = _URL_RE.sub(lambda m: mask_target(m.group(0)), text)
    for piece in sorted(set(secrets), key=len, reverse=True):
        if piece in text:
            text = text.replace(piece, "***")
    return text


class _ScrubFilter(logging.Filter):
    """On Apprise's and urllib3's loggers: every record's text with the known targets' secrets
    scrubbed (the message formatted first, a traceback folded into it), before any handler sees it."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, pieces: Iterable[str]) -> None:
        with self._lock:
            self._secrets |= set(pieces)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            secrets = set(self._secrets)
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep the format only
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = scrub(text, secrets)
        record.args = ()
        return True


_FILTER = _ScrubFilter()
_LOGGERS = ("apprise", "urllib3.connectionpool", "requests")
_guarded = False
_guard_lock = threading.Lock()


def guard_logs(urls: Iterable[str]) -> None:
    """Register the targets' secrets with the scrubbing filter (installed once); and give Apprise's
    logger a NullHandler, so that with no logging configured its warnings are not printed to stderr
    by Python's last-resort handler (the Delivery carries them, scrubbed)."""
    global _guarded
    _FILTER.add(p for u in urls for p in secret_pieces(u))
    with _guard_lock:
        if not _guarded:
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            logging.getLogger("apprise").addHandler(logging.NullHandler())
            _guarded = True
