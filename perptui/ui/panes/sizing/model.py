"""The sizing form as data: what was typed and how it becomes a ``SizingRequest``.

Pure (no Textual): the pane keeps a ``FormState`` of texts, and ``compute`` turns it and what the pane
knows (market, mark, funding, account, ATR) into a ``SizingResult`` or a ``SizingError`` naming the field.
Blank fields mean a default: entry = the mark, risk = the account's risk per trade, leverage = auto.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from perptui.domain.errors import UsageError
from perptui.domain.quantities import (
    ATR_MULTIPLE,
    PRICE,
    R_MULTIPLE,
    RISK_PERCENT,
    STOP_PERCENT,
    Quantity,
    leverage,
    money,
)

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.account import AccountSummary
    from perptui.domain.sizing import SizingError, SizingRequest, SizingResult, TakeProfitSpec
    from perptui.domain.types import MarginMode, Market, Side
    from perptui.services.sizing_inputs import AtrReading, MarketSnapshot

StopMode = Literal["price", "pct", "atr"]
RiskMode = Literal["pct", "amount"]
STOP_MODES: tuple[StopMode, ...] = ("pct", "price", "atr")
RISK_MODES: tuple[RiskMode, ...] = ("pct", "amount")
MAX_TARGETS = 5


# The calculator (``perptui.domain.sizing``) is imported on first use, not with the app: it is not needed
# for the first frame.


def error(field: str, message: str, *, missing: bool = False) -> SizingError:
    """A SizingError naming ``field``; ``missing`` marks a field still to fill (a hint, not a mistake)."""
    from perptui.domain.sizing import SizingError

    exc = SizingError(field, message)
    exc.missing = missing  # type: ignore[attr-defined]  # a UI-only hint carried on the domain's error
    return exc


def is_missing(exc: UsageError) -> bool:
    return bool(getattr(exc, "missing", False))


@dataclass(frozen=True, slots=True)
class FormState:
    """The form's texts and toggles, as typed (what is remembered across restarts)."""

    symbol: str = ""
    side: Side = "long"
    entry: str = ""  # blank: follow the mark
    stop_mode: StopMode = "pct"
    stop: str = ""
    risk_mode: RiskMode = "pct"
    risk: str = ""  # blank: the account's risk per trade
    leverage: str = ""  # blank: auto
    margin_mode: MarginMode = "isolated"
    targets: str = ""  # R multiples: "1,2,3"

    def as_dict(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("entry")  # a typed entry goes stale: a restart follows the mark again
        return data

    @classmethod
    def from_dict(cls, data: object) -> FormState:
        """A remembered form; anything unreadable falls back to the default."""
        if not isinstance(data, dict):
            return cls()
        default = cls()
        choices: dict[str, tuple[str, ...]] = {
            "side": ("long", "short"),
            "stop_mode": STOP_MODES,
            "risk_mode": RISK_MODES,
            "margin_mode": ("isolated", "cross"),
        }
        values: dict[str, Any] = {}
        for key in ("symbol", "side", "stop_mode", "stop", "risk_mode", "risk", "leverage", "margin_mode"):
            value = data.get(key)
            if isinstance(value, str) and (key not in choices or value in choices[key]):
                values[key] = value
        if isinstance(data.get("targets"), str):
            values["targets"] = data["targets"]
        return replace(default, **values)


@dataclass(frozen=True, slots=True)
class Context:
    """What the pane knows besides the form. Fractions throughout (0.01 = 1%)."""

    market: Market
    mark: float | None
    funding_rate: float | None = None
    funding_interval_hours: float | None = None
    equity: float | None = None
    free_margin: float | None = None
    #: Maintenance margin of the account's open positions (cross liquidation); None when unknown.
    other_maintenance: float | None = 0.0
    account_risk: float = 0.01
    atr: float | None = None
    slippage_bps: float = 0.0
    max_risk_fraction: float | None = None
    funding_warn_apr: float = 0.20


class AtrState(NamedTuple):
    """The ATR of ``symbol``: the reading (None while it loads or when it failed) and why it failed."""

    symbol: str
    reading: AtrReading | None
    error: str


def context_of(
    market: Market | None,
    snapshot: MarketSnapshot | None,
    summary: AccountSummary | None,
    atr: AtrState | None,
    settings: Settings,
) -> Context | None:
    """What the pane knows about ``market`` (None: no market yet); a snapshot or an ATR of another
    market (the symbol just changed) does not count."""
    m = market
    if m is None:
        return None
    snap = snapshot if snapshot is not None and snapshot.market.symbol == m.symbol else None
    s = summary
    reading = atr.reading if atr is not None and atr.symbol == m.symbol else None
    return Context(
        market=m,
        mark=snap.mark if snap else None,
        funding_rate=snap.funding_rate if snap else None,
        funding_interval_hours=snap.funding_interval_hours if snap else m.funding_interval_hours,
        equity=s.equity if s else None,
        free_margin=s.free_margin if s else None,
        other_maintenance=s.maintenance_margin if s else None,
        account_risk=s.risk_pct if s else settings.risk.risk_pct / 100,
        atr=reading.value if reading else None,
        slippage_bps=settings.sizing.slippage_bps,
        max_risk_fraction=settings.risk.max_risk_pct / 100,
        funding_warn_apr=settings.sizing.funding_warn_apr_pct / 100,
    )


# --- parsing ----------------------------------------------------------------------------------------


def parse_number(text: str, field: str, kind: Quantity) -> float:
    """A number typed in ``field``, read by the one reader of every field and flag
    (``perptui.presentation.parse``) and checked against its ``kind``; SizingError naming the field."""
    from perptui.presentation.parse import parse_number as read

    try:
        return read(text, kind)
    except UsageError as exc:
        raise error(field, str(exc)) from None


def stop_kind(mode: StopMode) -> Quantity:
    return {"price": PRICE, "pct": STOP_PERCENT, "atr": ATR_MULTIPLE}[mode]


def risk_kind(mode: RiskMode, ctx: Context) -> Quantity:
    return RISK_PERCENT if mode == "pct" else money(ctx.market.settle)


def leverage_kind(ctx: Context) -> Quantity:
    return leverage(ctx.market.max_leverage, ctx.market.symbol)


def entry_price(form: FormState, ctx: Context) -> float:
    """The typed entry, or the mark on the tick grid when the entry is blank (it follows the mark)."""
    if form.entry.strip():
        return parse_number(form.entry, "entry", PRICE)
    if ctx.mark is None:
        raise error("entry", "the mark price is not known yet: type an entry price", missing=True)
    tick = ctx.market.price_tick
    return on_grid(ctx.mark, tick) if tick else ctx.mark  # an order's price is on the tick grid


def stop_of(form: FormState, ctx: Context, entry: float) -> float:
    """The stop as a price, from the stop field in its mode (checked for the side)."""
    from perptui.domain.sizing import stop_price

    if not form.stop.strip():
        raise error(
            "stop", "type a stop to size the trade: a price, a % distance or an ATR multiple", missing=True
        )
    value = parse_number(form.stop, "stop", stop_kind(form.stop_mode))
    if form.stop_mode == "price":
        return stop_price(form.side, entry, price=value)
    if form.stop_mode == "pct":
        return stop_price(form.side, entry, pct=value / 100, tick=ctx.market.price_tick)
    multiple = value
    return stop_price(form.side, entry, atr=ctx.atr, atr_mult=multiple, tick=ctx.market.price_tick)


def targets_of(text: str) -> tuple[TakeProfitSpec, ...]:
    from perptui.domain.sizing import TakeProfitSpec

    parts = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    if len(parts) > MAX_TARGETS:
        raise error("take-profit", f"at most {MAX_TARGETS} targets, not {len(parts)}")
    return tuple(TakeProfitSpec(r=parse_number(p, "take-profit", R_MULTIPLE)) for p in parts)


def request(form: FormState, ctx: Context) -> SizingRequest:
    """The calculator's request for the form; a SizingError names the bad (or missing) field."""
    from perptui.domain.sizing import SizingRequest

    entry = entry_price(form, ctx)
    stop = stop_of(form, ctx, entry)
    if ctx.equity is None:
        raise error("equity", "the account's equity is not known yet", missing=True)
    risk_fraction = risk_amount = None
    risk = parse_number(form.risk, "risk", risk_kind(form.risk_mode, ctx)) if form.risk.strip() else None
    if form.risk_mode == "pct":
        risk_fraction = risk / 100 if risk is not None else ctx.account_risk
    else:
        risk_amount = risk if risk is not None else ctx.account_risk * ctx.equity
    lev = parse_number(form.leverage, "leverage", leverage_kind(ctx)) if form.leverage.strip() else None
    return SizingRequest(
        market=ctx.market,
        side=form.side,
        entry=entry,
        stop=stop,
        equity=ctx.equity,
        risk_fraction=risk_fraction,
        risk_amount=risk_amount,
        leverage=lev,
        margin_mode=form.margin_mode,
        free_margin=ctx.free_margin,
        other_maintenance=ctx.other_maintenance,
        slippage_bps=ctx.slippage_bps,
        take_profits=targets_of(form.targets),
        funding_rate=ctx.funding_rate,
        funding_interval_hours=ctx.funding_interval_hours,
        mark=ctx.mark,
        max_risk_fraction=ctx.max_risk_fraction,
        funding_warn_apr=ctx.funding_warn_apr,
    )


def compute(form: FormState, ctx: Context) -> SizingResult:
    from perptui.domain.sizing import size_position

    return size_position(request(form, ctx))


def field_of(exc: UsageError) -> str | None:
    """The form field a SizingError belongs to (None: not one the form has)."""
    name = str(getattr(exc, "field", ""))
    if name.startswith("take-profit"):
        return "targets"
    return name if name in ("entry", "stop", "risk", "leverage") else None


def message_of(exc: UsageError, *, with_field: bool = True) -> str:
    text = str(exc)
    return text if with_field else text.removeprefix(f"{getattr(exc, 'field', '')}: ")


# --- typed numbers -----------------------------------------------------------------------------------


def plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def on_grid(value: float, step: float) -> float:
    from perptui.domain.precision import step_decimals

    return round(round(value / step) * step, step_decimals(step))


def typed_price_warnings(form: FormState, ctx: Context) -> list[str]:
    """A typed entry, and a stop typed as a price, more than 30% from the mark: a second look (a decimal
    comma read as a thousands separator makes 0,013 into 13). Nothing for prices the pane derived."""
    from perptui.presentation.price_checks import far_from_mark

    tick = ctx.market.price_tick
    typed = [("entry", form.entry)]
    if form.stop_mode == "price":
        typed.append(("stop", form.stop))
    warnings = []
    for what, text in typed:
        if not text.strip():
            continue
        try:
            price = parse_number(text, what, PRICE)
        except UsageError:
            continue
        warning = far_from_mark(price, ctx.mark, what=what, tick=tick)
        if warning is not None:
            warnings.append(warning)
    return warnings
