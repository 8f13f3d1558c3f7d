"""Isolated margin of a layer's perp positions: average entry, the isolated wallet, the liquidation
price, and the first bar whose range crosses it. Pure numpy.

A position's ``entry`` is the average price paid for the quantity held (adds average in, reductions
keep it, a flip starts again at the fill price). Its isolated wallet is set when it opens to the entry
notional over its leverage, ``|q| x entry / L``, and at each later rebalance the layer moves margin in
or out so that the margin balance (wallet + unrealised PnL) is again ``|q| x P / L`` at that bar's
price ``P`` (the fill price where the position traded, else the open): ``wallet = |q| x P / L - q x
(P - entry)``, which is the entry notional over L for a position just opened: a rebalance margins the
book as if it were opened again at that bar at its leverage. Funding is paid from the
layer's cash, not from the wallet, so the liquidation price stays fixed between rebalances. Moving
margin is a transfer inside the layer: no cash flow.

The liquidation price is Binance's formula, ``domain.liquidation.liquidation_price``, evaluated for
many positions at once with the same bracket choice (``LiquidationTable``; a test holds it equal to
the scalar function). When it is crossed the position closes at that price and the exchange keeps
what is left of the wallet (the maintenance margin at that price): the position loses exactly its
margin balance (since its last rebalance).

A layer in cross margin (``MARGIN_MODES``) has no wallet per position: the whole layer is the margin
and its maintenance margin is the sum of its perp positions' tier maintenance at their notional,
``LiquidationTable.maintenance`` (a test holds it equal to ``domain.tiers.maintenance_margin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.types import LeverageTier

#: How a layer margins its perps: each position on its own wallet, or the whole layer as one account.
MARGIN_MODES: tuple[str, str] = ("isolated", "cross")


def average_entry(qty: np.ndarray, delta: np.ndarray, price: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Each position's entry price after trading ``delta`` at ``price`` (NaN where flat afterwards)."""
    new = qty + delta
    opened = (qty == 0) | (np.sign(new) != np.sign(qty))
    grown = ~opened & (np.abs(new) > np.abs(qty))
    with np.errstate(invalid="ignore", divide="ignore"):
        averaged = (np.abs(qty) * entry + np.abs(delta) * price) / np.abs(new)
    out = np.where(opened, price, np.where(grown, averaged, entry))
    return np.where(new == 0, np.nan, out)


def rebased_wallet(qty: np.ndarray, entry: np.ndarray, price: np.ndarray, leverage: np.ndarray) -> np.ndarray:
    """The isolated wallet that gives a margin balance of ``|q| x price / leverage`` (0 where flat)."""
    with np.errstate(invalid="ignore"):
        wallet = np.abs(qty) * price / leverage - qty * (price - entry)
    return np.where(qty != 0, wallet, 0.0)


@dataclass(frozen=True, slots=True, eq=False)
class LiquidationTable:
    """Every symbol's brackets as (N, M) arrays, padded with NaN rates past a symbol's last bracket."""

    low: np.ndarray
    high: np.ndarray
    mmr: np.ndarray
    cum: np.ndarray
    known: np.ndarray  # (N,) whether the symbol has brackets

    @classmethod
    def of(cls, tiers: Sequence[Sequence[LeverageTier]], n: int) -> LiquidationTable:
        width = max((len(t) for t in tiers), default=0) or 1
        low, high, mmr, cum = (np.full((n, width), np.nan) for _ in range(4))
        for i, brackets in enumerate(tiers):
            for j, t in enumerate(brackets):
                low[i, j], high[i, j], mmr[i, j], cum[i, j] = (
                    t.min_notional,
                    t.max_notional,
                    t.mmr,
                    t.maint_amount,
                )
        known = np.array([i < len(tiers) and len(tiers[i]) > 0 for i in range(n)], dtype=bool)
        return cls(low, high, mmr, cum, known)

    def prices(self, cols: np.ndarray, qty: np.ndarray, entry: np.ndarray, wallet: np.ndarray) -> np.ndarray:
        """The liquidation price of the positions ``qty[cols]`` (signed), as ``liquidation_price``
        gives it; NaN where there is none (flat, no brackets, a long its wallet carries to zero)."""
        q, s = np.abs(qty[cols])[:, None], np.sign(qty[cols])[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            # The formula term by term as the scalar function writes it (bitwise the same prices).
            price = (wallet[cols][:, None] + self.cum[cols] - s * q * entry[cols][:, None]) / (
                q * self.mmr[cols] - s * q
            )
            notional = q * price
            fits = (price > 0) & (self.low[cols] <= notional) & (notional < self.high[cols])
            pool = np.where(fits.any(axis=1, keepdims=True), fits, np.isfinite(price))
            # A long's price is the highest of the pool, a short's the lowest: max of s x price, times s.
            best = s[:, 0] * np.max(np.where(pool, s * price, -np.inf), axis=1)
        ok = pool.any(axis=1) & self.known[cols] & (entry[cols] > 0)
        best = np.where(s[:, 0] > 0, np.where(best > 0, best, np.nan), np.maximum(best, 0.0))
        return np.where(ok, best, np.nan)

    def maintenance(self, cols: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """The maintenance margin ``N x mmr - cum`` of positions of the symbols ``cols`` at notionals
        ``notional`` (rows x len(cols), absolute), each with the bracket its notional falls in (beyond
        the brackets: the last one above its floor, else the first), as ``tiers.maintenance_margin``
        chooses; 0 for a symbol without brackets."""
        low, high = self.low[cols], self.high[cols]
        n = notional[..., None]
        fits = (low <= n) & (n < high)
        last = np.maximum(np.isfinite(self.mmr[cols]).sum(axis=1) - 1, 0)
        rows = np.arange(len(cols))
        beyond = np.where(notional >= low[rows, last], last, 0)
        j = np.where(fits.any(axis=-1), fits.argmax(axis=-1), beyond)
        margin = notional * self.mmr[rows, j] - self.cum[rows, j]
        return np.where(self.known[cols], margin, 0.0)


def first_liquidation(
    low: np.ndarray, high: np.ndarray, qty: np.ndarray, liq: np.ndarray
) -> tuple[int, np.ndarray] | None:
    """The first row of ``low``/``high`` (bars x all symbols) where a held position's liquidation price
    is reached (a long's low at or below it, a short's high at or above it), with the columns hit in
    that row; None when none is. Bars without a price (NaN) never trigger."""
    cols = np.flatnonzero((qty != 0) & np.isfinite(liq))
    if cols.size == 0 or low.shape[0] == 0:
        return None
    price = liq[cols]
    with np.errstate(invalid="ignore"):
        hit = np.where(qty[cols] > 0, low[:, cols] <= price, high[:, cols] >= price)
    ever = hit.any(axis=0)
    if not ever.any():
        return None
    first = np.where(ever, hit.argmax(axis=0), hit.shape[0])
    row = int(first.min())
    return row, cols[first == row]


def liquidation_fee(qty: np.ndarray, entry: np.ndarray, margin: np.ndarray, price: np.ndarray) -> np.ndarray:
    """What the exchange keeps when positions close at their liquidation price: the margin balance
    left at that price (margin + unrealised PnL = the maintenance margin), never negative."""
    return np.maximum(margin + qty * (price - entry), 0.0)
