"""The positions table's columns and each cell's text and tone. No Textual.

A row's symbol, liquidation price, distance and sigmas take its state's colour: green safe, yellow near
the minimum distance to liquidation, red at or past it (``presentation.risk.liq_state``). Money is masked
in privacy mode; prices show at the market's tick, quantities at its step. The columns a trader checks
first come first; the rest scroll in with ``←`` ``→``.
``R`` is the unrealised PnL in units of the loss at the stop (no stop, or a stop at or past the entry:
no R). ``TPs`` is how many take-profit levels rest on the position and the price of the next one the
mark meets (``3 · 42,000.0``, a dash without one); every level is in ``perptui risk --json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perptui.presentation import numbers as fmt
from perptui.presentation import risk as rf
from perptui.ui.widgets.live_table import Cell, ColumnSpec

if TYPE_CHECKING:
    from perptui.domain.limits import LimitReport
    from perptui.domain.risk_pairs import PairRow
    from perptui.domain.risk_position import PositionRisk

SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec("symbol", "symbol", 17, left=True, max_width=24),
    ColumnSpec("side", "side", 5, left=True),
    ColumnSpec("qty", "qty", 9),
    ColumnSpec("mark", "mark", 10),
    ColumnSpec("notional", "notional", 10),
    ColumnSpec("upnl", "uPnL", 9),
    ColumnSpec("roe", "ROE", 7),
    ColumnSpec("liq", "liq", 10),
    ColumnSpec("to_liq", "to liq", 7),
    ColumnSpec("sigma", "σ", 5),
    ColumnSpec("r", "R", 6),
    ColumnSpec("margin", "mgn ratio", 9),
    ColumnSpec("funding", "next fund", 9),
    ColumnSpec("paid", "funding", 9),
    ColumnSpec("entry", "entry", 10),
    ColumnSpec("stop", "stop", 10),
    ColumnSpec("tps", "TPs", 3),
    ColumnSpec("lev", "lev", 6),
    ColumnSpec("mode", "mode", 8, left=True),
)

STATE_TONE = {"safe": "pos", "warning": "warn", "critical": "neg-strong"}


def _signed_tone(value: float | None) -> str:
    if value is None or value == 0:
        return "muted" if value is None else ""
    return "pos" if value > 0 else "neg"


def r_multiple(p: PositionRisk) -> float | None:
    """The unrealised PnL over what a stop fill would lose from the entry; None without that loss."""
    if p.upnl is None or p.risk_at_stop is None or not p.risk_at_stop > 0:
        return None
    return p.upnl / p.risk_at_stop


def _r_cell(p: PositionRisk) -> Cell:
    r = r_multiple(p)
    return (fmt.UNKNOWN, "muted") if r is None else (f"{r:+.2f}R", _signed_tone(r))


def take_profits_text(p: PositionRisk) -> str:
    """``n · next``: how many take-profit levels and the one the mark meets first (none: a dash)."""
    nearest = p.next_take_profit
    if nearest is None:
        return fmt.UNKNOWN
    return f"{len(p.take_profits)} · {fmt.price(nearest, p.price_tick)}"


def position_cells(
    p: PositionRisk, limits: LimitReport, *, stop: float | None, leverage: float | None, private: bool
) -> list[Cell]:
    tone = STATE_TONE[rf.liq_state(limits, p)]

    def money(value: float | None, digits: int = 2) -> Cell:
        if private and value is not None:
            return fmt.MASK, ""
        return fmt.money(value, signed=True, decimals=digits), _signed_tone(value)

    tick = p.price_tick
    notional = fmt.MASK if private else fmt.money(p.notional)
    qty = fmt.MASK if private else fmt.qty(p.qty, p.amount_step)
    return [
        (p.symbol, tone),
        (p.side, ""),
        (qty, ""),
        (fmt.price(p.mark, tick), ""),
        (notional, ""),
        money(p.upnl),
        (fmt.pct(p.roe, 1), _signed_tone(p.roe)),
        (rf.liq_text(p), tone),
        (fmt.pct(p.liq_distance, 1), tone),
        (rf.sigma_text(p), tone),
        _r_cell(p),
        (rf.margin_ratio_text(p), ""),
        money(p.next_funding, 4),
        money(p.funding_so_far, 4),
        (fmt.price(p.entry, tick), ""),
        (fmt.price(stop, tick) if stop is not None else "none", "" if stop is not None else "warn"),
        (take_profits_text(p), "" if p.take_profits else "muted"),
        (fmt.leverage(leverage).replace(".00x", "x"), ""),
        (p.margin_mode, ""),
    ]


def pair_cells(row: PairRow, limits: LimitReport, *, private: bool) -> list[Cell] | None:
    """A carry pair as one hedged row: side ``pair``, the pair's quantity, the net exposure as its notional,
    both legs' unrealised PnL, the perp leg's liquidation, margin and funding, and the basis (perp over
    spot) where the mode goes. None when the perp leg is gone (its spot shows as spot)."""
    p = row.perp
    if p is None:
        return None
    cells = position_cells(p, limits, stop=None, leverage=None, private=private)
    spot_upnl = None
    if row.spot_value is not None and row.spot_entry is not None:
        spot_upnl = row.spot_value - row.spot_qty * row.spot_entry
    upnl = None if p.upnl is None or spot_upnl is None else p.upnl + spot_upnl
    masked = fmt.MASK if private else None
    cells[0] = (f"{p.symbol.split('/', 1)[0]} pair", cells[0][1])
    cells[1] = ("pair", "")
    cells[4] = (masked or fmt.money(row.net_exposure, signed=True), "")
    cells[5] = (masked or fmt.money(upnl, signed=True), "" if private else _signed_tone(upnl))
    cells[6] = (fmt.UNKNOWN, "muted")
    cells[10] = (fmt.UNKNOWN, "muted")
    cells[15] = ("hedged", "")
    cells[17] = (f"basis {fmt.pct(row.basis, 2)}" if row.basis is not None else fmt.UNKNOWN, "")
    return cells
