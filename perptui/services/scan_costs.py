"""The carry costs the scanner prices with, from the ``[scan]`` settings (percent and basis points in
the config file, fractions in the maths)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.domain.scanner import CarryCosts

if TYPE_CHECKING:
    from perptui.config.settings import ScanSettings


def carry_costs(scan: ScanSettings, hold_days: float | None = None) -> CarryCosts:
    """The configured costs; ``hold_days`` overrides the configured holding period."""
    return CarryCosts(
        spot_taker=scan.spot_taker_fee_pct / 100,
        slippage=scan.slippage_bps / 10_000,
        hold_days=scan.hold_days if hold_days is None else hold_days,
        borrow_apr=scan.borrow_apr_pct / 100,
    )
