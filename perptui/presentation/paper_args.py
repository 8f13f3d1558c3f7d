"""What ``perptui paper`` reads for take-profits, stops and trails: ``PRICE[:SHARE%]``,
``PRICE|breakeven|none``, ``N%|Katr``. Each refusal is one line saying what is accepted."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from perptui.domain.errors import UsageError
from perptui.domain.paper import TakeProfitTarget, check_shares
from perptui.domain.quantities import MAX_MULTIPLE, PRICE
from perptui.presentation.parse import parse_number

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TpArg:
    """A ``--tp`` as typed: the price and the share (a fraction) when one was given."""

    price: float
    share: float | None


@dataclass(frozen=True, slots=True)
class TrailArg:
    """A ``--trail``: a percent of the mark (``pct``, as a fraction) or a multiple of the ATR."""

    kind: Literal["pct", "atr", "off"]
    value: float
    label: str


def _finite_positive(text: str, what: str, accepted: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{what} must be {accepted}, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{what} must be {accepted}, not {text!r}")
    return value


def parse_take_profit(text: str) -> TpArg:
    """``105`` or ``105:50`` / ``105:50%`` (SHARE is a percent of the position, above 0 and at most 100)."""
    price_text, sep, share_text = text.strip().partition(":")
    price = parse_number(price_text, PRICE)
    if not sep:
        return TpArg(price, None)
    share = _finite_positive(
        share_text.strip().removesuffix("%"), "a take-profit's share", "a percent above 0"
    )
    if share > 100:
        raise UsageError(f"a take-profit's share is a percent of the position, at most 100, not {share_text}")
    return TpArg(price, share / 100)


def targets_of(tps: Sequence[TpArg]) -> tuple[TakeProfitTarget, ...]:
    """The levels with their shares: levels given none split what the others leave equally (the last
    level closes whatever is left after rounding); shares over 100% in all are refused."""
    given = sum(t.share for t in tps if t.share is not None)
    if given > 1 + 1e-9:
        raise UsageError(f"--tp shares add up to {given * 100:.4g}%: at most 100% of the position")
    blank = sum(1 for t in tps if t.share is None)
    if blank and given >= 1 - 1e-9:
        raise UsageError("--tp shares take 100% of the position before every level has some: lower them")
    each = (1 - given) / blank if blank else 0.0
    targets = tuple(TakeProfitTarget(t.price, each if t.share is None else t.share) for t in tps)
    check_shares(targets)
    return targets


def parse_stop_level(text: str) -> float | Literal["breakeven", "none"]:
    """A price, ``breakeven`` (the entry) or ``none`` (remove the stop)."""
    word = text.strip().lower()
    if word in ("breakeven", "none"):
        return word  # type: ignore[return-value]  # word is one of the two literals just tested
    try:
        return parse_number(text, PRICE)
    except UsageError as exc:
        raise UsageError(f"{exc} (or breakeven, or none)") from None


def parse_trail(text: str) -> TrailArg:
    """``2%`` (of the mark, below 100%), ``1.5atr`` (a multiple of the ATR) or ``off``."""
    word = text.strip().lower().replace(" ", "")
    accepted = "a percent like 2% or an ATR multiple like 1.5atr (or off)"
    if word == "off":
        return TrailArg("off", 0.0, "off")
    if word.endswith("%"):
        value = _finite_positive(word[:-1], "--trail", accepted)
        if value >= 100:
            raise UsageError(f"--trail must be below 100% of the mark, not {text}")
        return TrailArg("pct", value / 100, f"{value:g}%")
    if word.endswith("atr"):
        value = _finite_positive(word[:-3], "--trail", accepted)
        if value > MAX_MULTIPLE:
            raise UsageError(f"--trail must be at most {MAX_MULTIPLE:g} ATRs behind the mark, not {text}")
        return TrailArg("atr", value, f"{value:g}atr")
    raise UsageError(f"--trail must be {accepted}, not {text!r}")


def arg_of(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type=``: a UsageError becomes a one-line usage error (exit 2)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.removeprefix("parse_").replace("_", " ")
    return convert
