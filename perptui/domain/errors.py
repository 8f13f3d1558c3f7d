"""Errors a trader can read.

Every error carries a one-line message that says what is wrong and, where it helps, what is
accepted. The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class PerptuiError(Exception):
    """Base of every error perptui reports to the user. ``exit_code`` is the CLI's exit code."""

    exit_code = 1


class UsageError(PerptuiError):
    """The user's input (a flag, a field, a config value) is not acceptable."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value or file is bad: the message names the key, the file and what is accepted."""


class DataFileError(PerptuiError):
    """A data file cannot be read at all (missing, unreadable, wrong format)."""


class StoreError(PerptuiError):
    """The SQLite cache cannot be used (corrupt, not SQLite, locked, newer schema)."""


class ExchangeError(PerptuiError):
    """The exchange refused or failed a request; the message says why in a trader's words."""


class ExchangeUnavailable(ExchangeError):
    """The exchange could not be reached, even after retries (network, timeouts, rate limits, 5xx)."""


class AuthenticationError(ExchangeError):
    """The exchange rejected the API key (missing, wrong, or without the needed permission)."""


class UnknownExchange(UsageError):
    """No exchange has that id."""


class UnknownSymbol(UsageError):
    """The market is not listed; ``suggestions`` holds close matches."""

    def __init__(self, symbol: str, suggestions: list[str] | None = None, where: str = "") -> None:
        self.symbol = symbol
        self.suggestions = suggestions or []
        msg = f"unknown symbol {symbol!r}" + (f" on {where}" if where else "")
        if self.suggestions:
            msg += "; did you mean " + " or ".join(self.suggestions[:3]) + "?"
        super().__init__(msg)
