"""URL checks for settings: credentials masked wherever a URL is shown, plain http only to this machine."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

#: ``scheme://user:pass@`` inside any text (a URL's userinfo ends at the last ``@`` before the host).
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")


def mask_url(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***`` (``https://***@host``)."""
    return _USERINFO_RE.sub(lambda m: f"{m['scheme']}***@", text)


def mask_target(url: str) -> str:
    """A notification URL shown without its secrets: only its scheme (``ntfy://***``). Apprise URLs
    carry tokens in the host and the path too (``tgram://bottoken/chatid``), not only in userinfo."""
    scheme, sep, _ = url.strip().partition("://")
    return f"{scheme}://***" if sep and scheme.isascii() and scheme.isalnum() else "***"


def url_password(url: str) -> str | None:
    """The password (else the user name) in ``url``'s userinfo, for scrubbing it from messages."""
    parts = urlsplit(url)
    return parts.password or parts.username


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z): traffic that never leaves this machine."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


#: What an exchange base URL may be, for messages.
BASE_URL_FORM = (
    "an http(s) URL with a host and an optional path prefix, e.g. http://127.0.0.1:8080 or "
    "https://relay.example/bybit"
)


def base_url_problem(value: str) -> str | None:
    """Why ``value`` cannot replace an exchange's REST base URL, or None when it can: http(s), a host,
    a port from 1 to 65535, no query, fragment, spaces or control characters."""
    if not value.strip():
        return "is empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value.strip()):
        return "holds spaces or control characters"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        return f"has the scheme {parts.scheme + '://' if parts.scheme else 'none'}"
    if not parts.hostname:
        return "names no host"
    try:
        port = parts.port
    except ValueError:
        return "has a port outside 1-65535"
    if port == 0:
        return "has a port outside 1-65535"
    if parts.query or parts.fragment:
        return "has a query or fragment"
    return None


def is_insecure_url(url: str) -> bool:
    """A plain ``http://`` URL to a host other than this machine: keys and orders would travel unencrypted."""
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback_host(parts.hostname)
