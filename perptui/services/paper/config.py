"""The engine's settings as fractions, converted once from the config's percents and basis points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from perptui.domain.limits import Limits
from perptui.domain.types import MarginMode

if TYPE_CHECKING:
    from perptui.config.settings import Settings


@dataclass(frozen=True, slots=True)
class PaperConfig:
    """``slippage`` and fees are fractions; the fees apply only where the market publishes none.
    ``leverage`` None = auto (the lowest whole leverage the free margin allows)."""

    slippage: float = 0.0005
    taker_fee: float = 0.0005
    maker_fee: float = 0.0002
    #: Spot fees (``[scan] spot_taker_fee_pct`` / ``spot_maker_fee_pct``): the spot twin publishes none.
    spot_taker_fee: float = 0.001
    spot_maker_fee: float = 0.001
    leverage: float | None = None
    margin_mode: MarginMode = "isolated"
    catch_up_timeframe: str = "5m"
    catch_up_days: float = 30.0
    limits: Limits = field(default_factory=Limits)
    #: A trip of the circuit breaker cancels resting limits that open or add, or holds them unfilled.
    breaker_limit_orders: Literal["cancel", "hold"] = "cancel"


def _limit(percent: float) -> float | None:
    return percent / 100 if percent > 0 else None


def limits_from(settings: Settings) -> Limits:
    """The ``[risk]`` limits as the pure ``Limits`` (fractions; 0 in the config = off = None)."""
    r = settings.risk
    return Limits(
        max_risk_per_trade=_limit(r.max_risk_pct),
        max_leverage=r.max_leverage if r.max_leverage > 0 else None,
        min_liq_distance=_limit(r.min_liq_distance_pct),
        max_margin_ratio=_limit(r.max_margin_ratio_pct),
        daily_loss_limit=_limit(r.daily_loss_limit_pct),
        max_drawdown=_limit(r.max_drawdown_pct),
        warn_at=r.warn_at_pct / 100,
        require_stop=r.alert_no_stop,
    )


def config_from(settings: Settings) -> PaperConfig:
    p = settings.paper
    return PaperConfig(
        slippage=p.slippage_bps / 10_000,
        taker_fee=p.taker_fee_pct / 100,
        maker_fee=p.maker_fee_pct / 100,
        spot_taker_fee=settings.scan.spot_taker_fee_pct / 100,
        spot_maker_fee=settings.scan.spot_maker_fee_pct / 100,
        leverage=p.leverage,
        margin_mode=p.margin_mode,
        catch_up_timeframe=p.catch_up_timeframe,
        catch_up_days=p.catch_up_days,
        limits=limits_from(settings),
        breaker_limit_orders=settings.risk.breaker_limit_orders,
    )
