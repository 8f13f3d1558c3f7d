"""Risk per trade and the plan's split: the config's defaults, overridden by values edited in the app.

The config file gives percents (``risk.risk_pct = 1`` means 1%); everything past ``defaults_from``
works in fractions (0.01). Values set with ``set_risk_pct``/``set_split`` are stored in the ledger's
``account_settings`` per account and win over the config from then on (the pane and the CLI agree);
a stored value that is no longer valid is ignored and the default applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perptui.domain.account import check_risk_fraction, check_split
from perptui.domain.errors import UsageError
from perptui.services.clock import Clock

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.store import Store

RISK_KEY = "risk_pct"
SPLIT_KEY = "split"


@dataclass(frozen=True, slots=True)
class AccountDefaults:
    """The config's account values, as fractions."""

    starting_capital: float
    risk_pct: float
    neutral_pct: float
    directional_pct: float


def defaults_from(settings: Settings) -> AccountDefaults:
    """The one place where the config's percents become fractions."""
    return AccountDefaults(
        starting_capital=settings.paper.starting_capital,
        risk_pct=settings.risk.risk_pct / 100,
        neutral_pct=settings.plan.neutral_pct / 100,
        directional_pct=settings.plan.directional_pct / 100,
    )


class RiskAndPlan:
    """Risk fraction and split of one account: defaults, plus overrides persisted in the store."""

    def __init__(
        self,
        store: Store | None,
        clock: Clock,
        account: str,
        *,
        risk_pct: float,
        neutral_pct: float,
        directional_pct: float,
    ) -> None:
        self._store = store
        self._clock = clock
        self._account = account
        self._risk_default = check_risk_fraction(risk_pct)
        self._split_default = check_split(neutral_pct, directional_pct)
        # Without a store (an exchange account opened with none) edits last for the session.
        self._memory: dict[str, object] = {}

    def _stored(self) -> Mapping[str, Any]:  # stored JSON: each value is checked where it is read
        if self._store is None:
            return self._memory
        return self._store.load_account_settings(self._account)

    def current(self) -> tuple[float, float, float]:
        """(risk fraction, neutral fraction, directional fraction) in force now."""
        stored = self._stored()
        risk = self._risk_default
        split = self._split_default
        with suppress(KeyError, UsageError):
            risk = check_risk_fraction(stored[RISK_KEY])
        try:
            neutral, directional = stored[SPLIT_KEY]
            split = check_split(neutral, directional)
        except (KeyError, TypeError, ValueError, UsageError):
            pass
        return risk, split[0], split[1]

    def set_risk_pct(self, fraction: float) -> None:
        value = check_risk_fraction(fraction)
        self._put(RISK_KEY, value)

    def set_split(self, neutral: float, directional: float) -> None:
        value = list(check_split(neutral, directional))
        self._put(SPLIT_KEY, value)

    def _put(self, key: str, value: object) -> None:
        if self._store is None:
            self._memory[key] = value
        else:
            self._store.set_account_setting(self._account, key, value, self._clock.now_ms())
