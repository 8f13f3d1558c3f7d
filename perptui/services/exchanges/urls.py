"""Point every REST URL of a ccxt exchange at another host (mirrors, relays, the test loopback)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from perptui.config.urls import mask_url
from perptui.domain.errors import UsageError


def check_base_url(base_url: str) -> str:
    """``http://127.0.0.1:8080`` or ``https://relay.example/prefix``; raises UsageError otherwise."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            f"bad api_base_url {mask_url(base_url)!r}: use http(s)://host[:port] with an optional path "
            "prefix, e.g. http://127.0.0.1:8080"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def rebase_url(url: str, base_url: str) -> str:
    """Replace scheme and host of ``url`` by ``base_url`` (whose path, if any, prefixes url's path).

    ccxt templates such as ``https://api.{hostname}/v5`` are handled: the host, placeholder included,
    is replaced.
    """
    base = check_base_url(base_url)
    scheme_sep = url.find("://")
    if scheme_sep < 0:
        return url
    rest = url[scheme_sep + 3 :]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else ""
    return base + path


def rebase_urls(tree: Any, base_url: str) -> Any:
    """A copy of ccxt's ``urls['api']`` (a str or nested dicts/lists of str) with every URL rebased."""
    if isinstance(tree, str):
        return rebase_url(tree, base_url)
    if isinstance(tree, dict):
        return {key: rebase_urls(value, base_url) for key, value in tree.items()}
    if isinstance(tree, list):
        return [rebase_urls(value, base_url) for value in tree]
    return tree


def iter_urls(tree: Any) -> list[str]:
    """Every URL string in a nested urls tree (for checks and tests)."""
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [u for value in tree.values() for u in iter_urls(value)]
    if isinstance(tree, list):
        return [u for value in tree for u in iter_urls(value)]
    return []
