"""The allocation plan's settings as the pane edits them: one key each, a number typed in a dialog or a
choice cycled in place. Pure: parsing, stepping and wording; ``PlanConfig`` validates the result."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from perptui.domain.errors import UsageError
from perptui.domain.quantities import (
    MULTIPLE,
    OPEN_PERCENT,
    POSITIVE,
    SHARE_PERCENT,
    SIGNED_PERCENT,
    Quantity,
    count,
    money,
)
from perptui.presentation.parse import parse_number

if TYPE_CHECKING:
    from perptui.domain.plan import PlanConfig

Kind = Literal["money", "pct", "int", "float", "choice"]


@dataclass(frozen=True, slots=True)
class Setting:
    key: str  # the pane's key
    field: str  # the PlanConfig field
    label: str
    kind: Kind
    choices: tuple[object, ...] = ()
    short: str = ""  # the label where room is short ("" when the value says it, "max_utility")
    #: What a typed value may be (its range and unit), as the CLI's flag for it takes it.
    quantity: Quantity = POSITIVE

    def text(self, config: PlanConfig) -> str:
        value = getattr(config, self.field)
        if self.kind == "money":
            return f"{value:,.0f}"
        if self.kind == "pct":
            return f"{value * 100:g}%"
        if self.field == "neutral_pct":
            return f"{value:g}/{100 - value:g}"
        if self.field == "lookback_days":
            return f"{value}d"
        if self.field == "leverage_cap":
            return f"{value:g}x"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def initial(self, config: PlanConfig) -> str:
        """The dialog's starting text (a percent without its sign)."""
        value = getattr(config, self.field)
        if self.kind == "money":  # every digit, never an exponent: 1234567.5, not 1.23457e+06
            return f"{value:.2f}".rstrip("0").rstrip(".")
        return f"{value * 100:g}" if self.kind == "pct" else f"{value:g}"

    def parse(self, text: str, config: PlanConfig) -> PlanConfig:
        """The config with this setting typed as ``text``; UsageError (one line) when it is not accepted."""
        try:
            number = parse_number(text, self.quantity)
        except UsageError as exc:
            raise UsageError(f"{self.label}: {exc}") from None
        value: object = int(number) if self.kind == "int" else number / 100 if self.kind == "pct" else number
        return _validated(config, **{self.field: value})

    def step(self, config: PlanConfig) -> PlanConfig:
        """The next choice (wrapping)."""
        current = getattr(config, self.field)
        index = self.choices.index(current) if current in self.choices else -1
        return _validated(config, **{self.field: self.choices[(index + 1) % len(self.choices)]})


def _validated(config: PlanConfig, **changes: object) -> PlanConfig:
    try:
        return replace(config, **changes)  # type: ignore[arg-type]  # PlanConfig checks each value; ValueError below
    except ValueError as exc:  # PlanConfig's checks: one line naming the field
        raise UsageError(str(exc)) from None


def settings() -> tuple[Setting, ...]:
    from perptui.domain.estimators import LOOKBACK_DAYS
    from perptui.domain.optimize import OBJECTIVES

    return (
        Setting("c", "capital", "capital", "money", quantity=money(), short="capital"),
        Setting(
            "s", "neutral_pct", "neutral / directional %", "float", quantity=SHARE_PERCENT, short="split"
        ),
        Setting(
            "u", "universe_size", "universe", "int", quantity=count(1, noun="universe size"), short="universe"
        ),
        Setting("m", "min_carry_apr", "min carry APR", "pct", quantity=SIGNED_PERCENT, short="carry"),
        Setting("o", "objective", "objective", "choice", tuple(OBJECTIVES)),
        Setting("a", "risk_aversion", "risk aversion", "float", short="aversion"),
        Setting(
            "l",
            "leverage_cap",
            "leverage cap",
            "float",
            quantity=MULTIPLE.named("leverage cap"),
            short="lev cap",
        ),
        Setting("v", "vol_target", "vol target", "pct", quantity=OPEN_PERCENT, short="vol"),
        Setting("g", "target_return", "target return", "pct", quantity=SIGNED_PERCENT, short="target"),
        Setting("b", "lookback_days", "lookback", "choice", tuple(LOOKBACK_DAYS), short="lookback"),
    )
