"""The account's capital: summary, cash flows, PnL windows, amount and risk/plan checks. Pure.

Conventions (as everywhere in the domain): times are epoch ms UTC, money is in the settle currency,
every rate and share is a FRACTION (0.01 = 1%), and ``None`` means "not known" (never a guess).

Amounts are kept to 8 decimals (``AMOUNT_DECIMALS``), the precision exchanges use for USDT; the ledger
stores them as integer units of 1e-8 so sums are exact and a balance withdrawn to zero is exactly zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from perptui.domain.errors import UsageError
from perptui.domain.quantities import check, money

#: Kinds of cash flow moved in or out by the trader. The paper engine adds trading kinds (realised PnL,
#: fees, funding, liquidation: ``perptui.domain.paper.TRADE_FLOW_KINDS``), each a signed movement of the
#: wallet, so code reading flows must not assume this list is complete.
CashFlowKind = Literal["opening", "deposit", "withdrawal"]
CASH_FLOW_KINDS: tuple[str, ...] = ("opening", "deposit", "withdrawal")
#: Money moved in or out after the opening: what PnL is measured net of.
TRANSFER_KINDS: tuple[str, ...] = ("deposit", "withdrawal")

AMOUNT_DECIMALS = 8
#: One unit of the ledger's integer amounts: 1e-8 of the currency.
UNITS_PER_COIN = 10**AMOUNT_DECIMALS

MINUTE_MS = 60_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


def to_units(amount: float) -> int:
    """Money -> integer units of 1e-8 (rounded half away from zero)."""
    return int(math.copysign(math.floor(abs(amount) * UNITS_PER_COIN + 0.5), amount))


def from_units(units: int) -> float:
    return units / UNITS_PER_COIN


# --- values -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A ledger account as created: its name, currency, creation time and opening balance."""

    name: str
    currency: str
    created_at: int
    opening_balance: float


@dataclass(frozen=True, slots=True)
class CashFlow:
    """Money moved into (opening, deposit) or out of (withdrawal) the wallet, or a trading flow (realised
    PnL, fee, funding, liquidation). ``amount`` is >= 0; ``signed`` is what it did to the balance (from
    ``delta`` when the ledger gives it, else from the kind). ``seq`` orders the account's flows."""

    account: str
    seq: int
    time: int
    kind: str
    amount: float
    balance_after: float
    delta: float | None = None

    @property
    def signed(self) -> float:
        if self.delta is not None:
            return self.delta
        return -self.amount if self.kind == "withdrawal" else self.amount

    def as_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "amount": self.amount,
            "balance_after": self.balance_after,
        }


#: The JSON keys of ``perptui account --json``, in order (``account, currency, as_of`` follow them).
SUMMARY_KEYS = (
    "equity",
    "wallet_balance",
    "free_margin",
    "used_margin",
    "unrealized_pnl",
    "leverage",
    "risk_pct",
    "risk_budget",
    "neutral_pct",
    "directional_pct",
    "pnl_today",
    "pnl_week",
)


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """What the account pane and ``perptui account`` show.

    ``account`` is the paper account's ledger name (``paper``, ``paper:<exchange>``) or the exchange id;
    ``exchange`` the exchange it trades. ``leverage`` is the effective leverage: gross position
    notional / equity (0 with no positions). ``risk_pct``, ``neutral_pct`` and ``directional_pct`` are
    fractions (0.01 = 1%); ``risk_budget`` = risk_pct x equity, the most one trade should lose.
    """

    account: str
    currency: str
    as_of: int
    equity: float | None
    wallet_balance: float | None
    free_margin: float | None
    used_margin: float | None
    unrealized_pnl: float | None
    leverage: float | None
    risk_pct: float
    risk_budget: float | None
    neutral_pct: float
    directional_pct: float
    pnl_today: float | None = None
    pnl_week: float | None = None
    #: Maintenance margin of the open positions (0 without any; None when the exchange does not say).
    #: Cross-margin liquidation of a new position depends on it.
    maintenance_margin: float | None = None
    #: The exchange whose markets the account trades (a paper account's own; None: not said).
    exchange: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {key: getattr(self, key) for key in SUMMARY_KEYS}
        data |= {
            "account": self.account,
            "currency": self.currency,
            "as_of": self.as_of,
            "maintenance_margin": self.maintenance_margin,
            "exchange": self.exchange,
        }
        return data


def effective_leverage(gross_notional: float | None, equity: float | None) -> float | None:
    """Gross position notional / equity; 0 without positions; None when unknown or equity <= 0."""
    if gross_notional is None:
        return None
    if gross_notional == 0:
        return 0.0
    if equity is None or equity <= 0:
        return None
    return gross_notional / equity


def risk_budget(risk_fraction: float, equity: float | None) -> float | None:
    """The most one trade should lose: risk fraction x equity (0 when equity is not positive)."""
    if equity is None:
        return None
    return max(0.0, risk_fraction * equity)


# --- PnL windows ------------------------------------------------------------------------------------


def day_start(now_ms: int) -> int:
    """00:00 UTC of the day holding ``now_ms``."""
    return now_ms - now_ms % DAY_MS


def week_start(now_ms: int) -> int:
    """Monday 00:00 UTC of the ISO week holding ``now_ms`` (1970-01-01 was a Thursday)."""
    days = now_ms // DAY_MS
    return (days - (days + 3) % 7) * DAY_MS


def equity_at(history: Sequence[tuple[int, float]], time: int) -> tuple[int, float] | None:
    """The last snapshot at or before ``time`` (history sorted by time), or None."""
    found = None
    for t, equity in history:
        if t > time:
            break
        found = (t, equity)
    return found


def period_pnl(
    equity_now: float | None,
    start: int,
    history: Sequence[tuple[int, float]],
    flows: Iterable[CashFlow],
    opening_balance: float,
) -> float | None:
    """PnL since ``start`` net of deposits and withdrawals.

    pnl = equity now - equity at the start - net cash moved in after it (deposits and withdrawals only:
    realised PnL, fees and funding in ``flows`` are part of the PnL, not cash moved in). Equity at the
    start is the last snapshot at or before ``start`` (a snapshot taken at a flow's time already holds
    that flow, so only flows after the snapshot's time count). With no such snapshot (the account did not
    exist yet) it is the opening balance, and every transfer counts: the PnL since it was created.
    """
    if equity_now is None:
        return None
    base = equity_at(history, start)
    if base is None:
        moved = math.fsum(f.signed for f in flows if f.kind in TRANSFER_KINDS)
        return equity_now - opening_balance - moved
    base_time, base_equity = base
    moved = math.fsum(f.signed for f in flows if f.time > base_time and f.kind in TRANSFER_KINDS)
    return equity_now - base_equity - moved


# --- input ------------------------------------------------------------------------------------------


def check_amount(value: float, field: str = "amount", currency: str = "USDT") -> float:
    """An amount of money (a deposit, a withdrawal, a starting capital) within the limits of
    ``quantities.money`` (0.01 to ``MAX_AMOUNT``), rounded to 8 decimals; a one-line UsageError naming
    ``field`` otherwise. Text a person typed is read by ``perptui.presentation.parse`` first."""
    try:
        checked = check(value, money(currency))
    except UsageError as exc:
        raise UsageError(f"{field}: {exc}") from None
    return from_units(to_units(checked))


def check_risk_fraction(fraction: float) -> float:
    """Risk per trade as a fraction of equity must be in (0, 1]; returns it."""
    if not isinstance(fraction, int | float) or not math.isfinite(fraction) or not 0 < fraction <= 1:
        raise UsageError(
            f"risk per trade must be more than 0% and at most 100% of equity, not {_pct(fraction)}"
        )
    return float(fraction)


def check_split(neutral: float, directional: float) -> tuple[float, float]:
    """The hybrid plan's split as fractions: each in [0, 1], together 1 (to 1e-9). Returns it."""
    for name, value in (("neutral base", neutral), ("directional layer", directional)):
        if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
            raise UsageError(f"the {name} share must be between 0% and 100%, not {_pct(value)}")
    if abs(neutral + directional - 1) > 1e-9:
        raise UsageError(
            f"the neutral base and directional layer shares must make 100%, not "
            f"{_pct(neutral)} + {_pct(directional)} = {_pct(neutral + directional)}"
        )
    return float(neutral), float(directional)


def _pct(value: object) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value * 100:g}%"
    return repr(value)
