"""The accounting identity of a backtest, checked from its ledgers alone. Pure numpy.

Per layer:
- final equity = capital + price PnL + funding - fees;
- price PnL = sum over fills of ``-qty x price``, plus each position still open (the fills' net
  quantity per symbol and leg) valued at its last price at the run's final close;
- funding = the sum of the funding ledger's amounts, each ``-qty x mark x rate``; fees = the sum of
  the fill ledger's fees.
"""

from __future__ import annotations

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.types import LEG_PERP, BacktestResult


def _last_price(first: np.ndarray, second: np.ndarray, bar: int, column: int) -> float:
    """The last price known at bar ``bar``'s close: its close, else the latest open or close before."""
    seq = np.column_stack([first[: bar + 1, column], second[: bar + 1, column]]).ravel()
    known = seq[np.isfinite(seq)]
    return float(known[-1]) if known.size else float("nan")


def ledger_price_pnl(result: BacktestResult, history: MarketHistory, layer: int) -> float:
    """A layer's price PnL from its fills and the history's last prices."""
    fills = result.fills
    mine = fills.layer == layer
    cash = float(-(fills.qty[mine] @ fills.price[mine]))
    last_bar = int(history.bar_of(int(result.times[-1]) - history.bar_ms))
    key = fills.symbol[mine] * 2 + fills.leg[mine]
    net = np.bincount(key, weights=fills.qty[mine], minlength=2 * len(history.symbols))
    value = 0.0
    for k in np.flatnonzero(net):
        column, leg = divmod(int(k), 2)
        first, second = (
            (history.open, history.close) if leg == LEG_PERP else (history.spot_open, history.spot_close)
        )
        value += net[k] * _last_price(first, second, last_bar, column)
    return cash + value


def reconcile(result: BacktestResult, history: MarketHistory) -> float:
    """The largest absolute discrepancy between what the layers report and what their ledgers add
    up to (0 up to float rounding when the run's accounting is exact)."""
    worst = 0.0
    fund = result.funding
    expected = -fund.qty * fund.mark * fund.rate
    if expected.size:
        worst = float(np.max(np.abs(expected - fund.amount)))
    for i, layer in enumerate(result.layers):
        fees = float(result.fills.fee[result.fills.layer == i].sum())
        funding = float(fund.amount[fund.layer == i].sum())
        price = ledger_price_pnl(result, history, i)
        final = layer.capital + layer.price_pnl + layer.funding_pnl - layer.fees
        worst = max(
            worst,
            abs(fees - layer.fees),
            abs(funding - layer.funding_pnl),
            abs(price - layer.price_pnl),
            abs(final - float(layer.equity[-1])),
        )
    return worst
