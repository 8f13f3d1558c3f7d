"""Edits of the sizing form as data: nudging a field a step up or down, and carrying a value over when
the stop's or the risk's mode changes. Pure (no Textual)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TypeVar

from perptui.domain.errors import UsageError
from perptui.domain.quantities import PRICE, RISK_PERCENT, Quantity
from perptui.presentation.numbers import price_input
from perptui.ui.panes.sizing.model import (
    STOP_MODES,
    Context,
    FormState,
    RiskMode,
    StopMode,
    entry_price,
    leverage_kind,
    on_grid,
    parse_number,
    plain,
    risk_kind,
    stop_kind,
    stop_of,
)

_S = TypeVar("_S", bound=str)  # a mode: StopMode, RiskMode


def nudge(
    field: str, form: FormState, ctx: Context, direction: int, *, auto_leverage: float | None = None
) -> str | None:
    """The field's text one tick (prices), 0.1 (percents, ATR multiples), 1 (amounts) or 1x (leverage)
    up or down; None when the field has nothing to nudge from or cannot be nudged."""
    tick = ctx.market.price_tick
    if field == "entry":
        try:
            base = entry_price(form, ctx)
        except UsageError:
            return None
        step = tick or _tick_guess(base)
        return price_input(max(step, on_grid(base, step) + direction * step), tick)
    if field == "stop":
        if form.stop_mode == "price":
            try:
                base = parse_number(form.stop, "stop", PRICE) if form.stop.strip() else entry_price(form, ctx)
            except UsageError:
                return None
            step = tick or _tick_guess(base)
            return price_input(max(step, on_grid(base, step) + direction * step), tick)
        return _step_text(form.stop, stop_kind(form.stop_mode), direction, 0.1, 1, floor=0.1)
    if field == "risk":
        if form.risk_mode == "pct":
            base_text = form.risk if form.risk.strip() else plain(ctx.account_risk * 100, 2)
            return _step_text(base_text, RISK_PERCENT, direction, 0.1, 2, floor=0.1)
        if form.risk.strip():
            base_text = form.risk
        elif ctx.equity is not None:
            base_text = plain(ctx.account_risk * ctx.equity, 2)
        else:
            return None
        return _step_text(base_text, risk_kind("amount", ctx), direction, 1.0, 2, floor=1.0)
    if field == "leverage":
        try:
            lev = (
                parse_number(form.leverage, "leverage", leverage_kind(ctx)) if form.leverage.strip() else None
            )
        except UsageError:
            return None
        if lev is None:
            lev = auto_leverage or 1.0
        ceiling = ctx.market.max_leverage or 125.0
        return plain(min(ceiling, max(1.0, math.floor(lev + 1e-9) + direction)), 0)
    return None


def _tick_guess(price: float) -> float:
    """A step for a market that publishes no tick: about 5 significant digits."""
    return 10 ** (math.floor(math.log10(price)) - 4) if price > 0 else 1.0


def _step_text(
    text: str, kind: Quantity, direction: int, step: float, decimals: int, *, floor: float
) -> str | None:
    try:
        base = parse_number(text, "value", kind) if text.strip() else None
    except UsageError:
        return None
    if base is None:
        return None
    new = round(round(base / step) * step + direction * step, decimals)
    return plain(max(floor, new), decimals)


def convert_stop(form: FormState, ctx: Context, mode: StopMode) -> str:
    """The stop field's text in ``mode`` for the same stop price ("" when it cannot be carried over)."""
    try:
        stop = stop_of(form, ctx, entry_price(form, ctx))
    except UsageError:
        return ""
    return stop_text(form, ctx, mode, stop)


def stop_text(form: FormState, ctx: Context, mode: StopMode, stop: float) -> str:
    """The shortest text of the stop field in ``mode`` that gives the stop price ``stop`` back: a % or
    an ATR multiple rounded to 2 decimals would move a stop on a fine tick (2% -> 2.01%), so more are
    used when needed (up to 8). "" when it cannot be written (no entry, no ATR)."""
    try:
        entry = entry_price(form, ctx)
    except UsageError:
        return ""
    tick = ctx.market.price_tick
    if mode == "price":
        return price_input(stop, tick)
    unit = entry / 100 if mode == "pct" else ctx.atr
    if unit is None or unit <= 0:
        return ""
    distance = abs(entry - stop)
    # A distance is rounded to the tick away from the entry: any in (distance - tick, distance] gives
    # this stop back; its middle survives the rounding of the text best.
    values = [distance / unit, (distance - (tick or 0) / 2) / unit]
    first = ""
    for decimals in range(2, 9):
        for value in values:
            text = plain(value, decimals)
            first = first or text
            try:
                back = stop_of(replace(form, stop_mode=mode, stop=text), ctx, entry)
            except UsageError:
                continue
            if abs(back - stop) <= (tick or abs(stop) * 1e-12) / 2:
                return text
    return first


@dataclass(frozen=True, slots=True)
class StopCycle:
    """A run of ``x`` presses: the mode and text it started from, the stop price they gave, and what the
    last press wrote (a form that no longer shows it ended the run)."""

    mode: StopMode
    text: str
    stop: float
    written: tuple[StopMode, str]


def cycle_stop(
    form: FormState, ctx: Context | None, cycle: StopCycle | None
) -> tuple[StopMode, str, StopCycle | None]:
    """The next stop mode and its text for the SAME stop price, and the run to remember. The text is
    written from the price the run started with, never from the previous (rounded) text, and the mode
    the run started in gets its own text back: 2% -> price -> ATR -> 2%."""
    mode: StopMode = next_in(STOP_MODES, form.stop_mode)
    if ctx is None:
        return mode, "", None
    if cycle is None or cycle.written != (form.stop_mode, form.stop):
        try:
            stop = stop_of(form, ctx, entry_price(form, ctx))
        except UsageError:
            return mode, "", None
        cycle = StopCycle(form.stop_mode, form.stop, stop, (form.stop_mode, form.stop))
    text = cycle.text if mode == cycle.mode else stop_text(form, ctx, mode, cycle.stop)
    return mode, text, replace(cycle, written=(mode, text))


def convert_risk(form: FormState, ctx: Context, mode: RiskMode) -> str:
    """The risk field's text in ``mode`` for the same budget ("" = the account's default stays blank)."""
    if not form.risk.strip() or ctx.equity is None:
        return ""
    try:
        typed = parse_number(form.risk, "risk", risk_kind(form.risk_mode, ctx))
        budget = typed / 100 * ctx.equity if form.risk_mode == "pct" else typed
    except UsageError:
        return ""
    return plain(budget / ctx.equity * 100, 2) if mode == "pct" else plain(budget, 2)


def next_in(options: tuple[_S, ...], current: str) -> _S:
    return options[(options.index(current) + 1) % len(options)] if current in options else options[0]
