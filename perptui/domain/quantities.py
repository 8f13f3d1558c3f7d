"""What each kind of number a person gives may be: its sign, its range, its unit and its name in a message.

One definition for the CLI's flags, the panes' fields and the checks the services run on numbers from
settings, so the same quantity has the same limits everywhere. ``check`` refuses a value with a one-line
``UsageError`` saying what is wrong and what is accepted; reading the text is
``perptui.presentation.parse``'s job. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from perptui.domain.errors import UsageError

#: The smallest deposit, withdrawal or capital accepted: a cent of the settle currency.
MIN_AMOUNT = 0.01
#: The largest amount of money accepted (far above any small account; catches typos such as 1e15).
MAX_AMOUNT = 1e9
#: Prices the calculators handle (a meme coin's 1e-8 to far above any price traded today).
MIN_PRICE = 1e-12
MAX_PRICE = 1e12
#: The largest quantity of base units accepted (a billion-token position of a 1e-6 coin fits).
MAX_QUANTITY = 1e15
#: The most Monte Carlo paths a backtest draws (the view's field and ``--monte-carlo``).
MAX_PATHS = 100_000
#: The largest multiple (of an ATR, a risk, a payoff): a stop 1,000 ATRs away is a typo.
MAX_MULTIPLE = 1_000.0
#: The leverage accepted when the market's own maximum is not known (Binance's highest).
DEFAULT_MAX_LEVERAGE = 125.0
#: The most leverage perptui accepts whatever a market says.
MAX_LEVERAGE = 200.0

Sign = Literal["positive", "non_negative", "any"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """A kind of number: ``positive`` ones refuse 0 and below with "must be above 0"; ``minimum`` and
    ``maximum`` are inclusive; ``unit`` follows the bounds in messages and may follow the number typed
    (as may ``suffixes``)."""

    noun: str
    sign: Sign = "positive"
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    whole: bool = False
    example: str = "1500 or 0.013"
    suffixes: tuple[str, ...] = ()
    #: Why the maximum is what it is, when it is not perptui's own cap ("BTC/USDT:USDT's maximum").
    maximum_source: str = ""

    def named(self, noun: str) -> Quantity:
        return replace(self, noun=noun)

    def accepted_suffixes(self) -> tuple[str, ...]:
        return tuple(s for s in (self.unit, *self.suffixes) if s)


PRICE = Quantity("price", minimum=MIN_PRICE, maximum=MAX_PRICE, example="85913.5 or 0.013")
QUANTITY = Quantity("quantity", maximum=MAX_QUANTITY, example="0.01 or 1500")
#: A share of something in percent, above 0 and at most 100 (risk per trade, a win rate, a part to close).
PERCENT = Quantity("percent", maximum=100.0, unit="%", example="1 or 1.5")
#: A share from 0 to 100 percent, 0 included (the neutral base's part of the plan).
SHARE_PERCENT = Quantity("percent", sign="non_negative", maximum=100.0, unit="%", example="70 or 0")
#: A percent that may exceed 100 (a stop distance, a volatility target), above 0.
OPEN_PERCENT = Quantity("percent", unit="%", example="2 or 30")
#: A percent with a meaningful sign (a minimum carry APR, a target return).
SIGNED_PERCENT = Quantity("percent", sign="any", unit="%", example="5 or -2.5")
#: A multiple of something (ATR multiples, R multiples, a payoff ratio), above 0.
MULTIPLE = Quantity("multiple", maximum=MAX_MULTIPLE, suffixes=("x", "R"), example="2 or 1.5")
#: The quantities of the sizing calculator, the same for ``perptui size`` and the sizing pane.
RISK_PERCENT = PERCENT.named("risk")
#: A stop 100% away is at a price of 0 (a long's) or twice the entry (a short's): below 100, always.
STOP_PERCENT = replace(PERCENT, noun="stop distance", maximum=99.9)
ATR_MULTIPLE = MULTIPLE.named("ATR multiple")
R_MULTIPLE = MULTIPLE.named("R multiple")
WIN_RATE = PERCENT.named("win rate")
PAYOFF_RATIO = MULTIPLE.named("payoff ratio")
#: A number above 0 with no unit (risk aversion, a holding period in days).
POSITIVE = Quantity("number", example="2 or 0.5")
#: A number of 0 or more (a minimum filter; 0 means none).
NON_NEGATIVE = Quantity("number", sign="non_negative", example="0 or 10")
#: Any finite number, where the sign means something (a funding filter).
SIGNED = Quantity("number", sign="any", example="0.01 or -0.01")


def money(currency: str = "USDT") -> Quantity:
    """An amount of money (deposit, withdrawal, capital, equity, risk budget): a cent to a billion."""
    return Quantity(
        "amount", minimum=MIN_AMOUNT, maximum=MAX_AMOUNT, unit=currency, example="250 or 1,000.50"
    )


def leverage(market_max: float | None = None, symbol: str = "") -> Quantity:
    """Leverage from 1x to the market's maximum (``DEFAULT_MAX_LEVERAGE`` when it is not known)."""
    known = market_max is not None and math.isfinite(market_max) and market_max >= 1
    cap = min(market_max, MAX_LEVERAGE) if known and market_max is not None else DEFAULT_MAX_LEVERAGE
    source = f"{symbol or 'the market'}'s maximum" if known else ""
    return Quantity("leverage", minimum=1.0, maximum=cap, unit="x", example="3 or 10", maximum_source=source)


def count(minimum: int = 1, maximum: int | None = None, noun: str = "count") -> Quantity:
    """A whole number from ``minimum`` (0 allowed when it is 0)."""
    sign: Sign = "non_negative" if minimum <= 0 else "positive"
    return Quantity(noun, sign=sign, minimum=float(minimum), maximum=maximum, whole=True, example="10")


def plain_number(value: float) -> str:
    """Every digit of a number as Python holds it, with thousands separators and never an exponent:
    ``1,000,000,000,000,000``, ``0.000001``."""
    return format(Decimal(repr(float(value))), ",f")


def bound_text(value: float, unit: str = "") -> str:
    """A bound in a message: ``1,000,000,000 USDT``, ``0.01 USDT``, ``125x``, ``100%``."""
    text = plain_number(value).removesuffix(".0")
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "x") else f"{text} {unit}"


def check(value: float, q: Quantity, shown: str | None = None) -> float:
    """``value`` when ``q`` accepts it; else a one-line UsageError. ``shown`` is how the value appears in
    the message (the text typed); by default the number itself."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        what = shown if shown is not None else repr(value)
        raise UsageError(f"{what} is not a number (e.g. {q.example})")
    what = shown if shown is not None else plain_number(value).removesuffix(".0")
    if q.sign == "positive" and value <= 0:
        raise UsageError(f"{what} must be above 0")
    if q.sign == "non_negative" and value < 0:
        raise UsageError(f"{what} must be 0 or more")
    if q.whole and value != int(value):
        raise UsageError(f"{what} is not a whole number (e.g. {q.example})")
    if q.minimum is not None and value < q.minimum:
        raise UsageError(f"{what} is below the smallest accepted {q.noun} {bound_text(q.minimum, q.unit)}")
    if q.maximum is not None and value > q.maximum:
        source = f" ({q.maximum_source})" if q.maximum_source else ""
        raise UsageError(
            f"{what} is above the largest accepted {q.noun} {bound_text(q.maximum, q.unit)}{source}"
        )
    return float(value)
