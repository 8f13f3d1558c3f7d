"""The carry and trend strategies of ``perptui backtest`` written again for backtrader (the cross-check of
``bench_backtrader.py``, where the accounting choices are explained). Nothing here imports perptui: the
rules are re-implemented from their descriptions, on backtrader's own feeds, indicators and broker.

Timing, as perptui's engine: a decision is taken in ``next()`` at the close of bar k - 1 (indicators and
the broker's value as of that close) and carried out in ``next_open()`` of bar k (cheat-on-open: the
market orders are matched against bar k's open), sized with bar k's open. Funding is booked as cash in
``next_open()`` of the bar that holds the print, so it is in the broker's value at that bar's close.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence

import backtrader as bt
import numpy as np

DAY_MS = 86_400_000
_EPOCH = bt.date2num(dt.datetime(1970, 1, 1))


class DonchianState(bt.Indicator):
    """+1 after a close above the highest of the ``window`` closes before it, -1 after one below their
    lowest, else the last breakout's sign (0 before any)."""

    lines = ("state",)
    params = (("window", 20),)

    def __init__(self) -> None:
        self.addminperiod(self.p.window + 1)

    def next(self) -> None:
        prior = self.data.get(ago=-1, size=self.p.window)
        c = self.data[0]
        if c > max(prior):
            self.lines.state[0] = 1.0
        elif c < min(prior):
            self.lines.state[0] = -1.0
        else:
            last = self.lines.state[-1]
            self.lines.state[0] = 0.0 if math.isnan(last) else last


class ScaledMomentum(bt.Indicator):
    """Return over ``lookback`` bars over its expected volatility (the per-bar standard deviation of the
    log returns in the span, ddof 1, x sqrt(lookback)), clipped to [-1, 1]."""

    lines = ("mom",)
    params = (("lookback", 30),)

    def __init__(self) -> None:
        self.addminperiod(self.p.lookback + 1)

    def next(self) -> None:
        n = self.p.lookback
        span = np.asarray(self.data.get(size=n + 1), dtype=float)
        ret = span[-1] / span[0] - 1.0
        sd = float(np.diff(np.log(span)).std(ddof=1)) if n >= 2 else 0.0
        if sd == 0.0:
            self.lines.mom[0] = float((ret > 0) - (ret < 0))
        else:
            self.lines.mom[0] = min(1.0, max(-1.0, ret / (sd * math.sqrt(n))))


class PerpBook(bt.Strategy):
    """What both strategies share: the bar index on perptui's grid, the equity (the broker's value less
    the idle reserve), funding paid as cash at each print, orders that must fill, the equity at each
    close from the first traded bar on.

    ``funding[name]`` is ``(times_ms, rates)`` of the perp feed called ``name``; a print at a bar's open
    is paid by the position held before that bar's trades, one strictly inside the bar by the position
    after them, both at the bar's open price (perptui's convention)."""

    params = (
        ("t0", 0),  # open time of grid bar 0, ms
        ("bar_ms", 8 * 3_600_000),
        ("start", 0),  # first grid bar that may trade
        ("reserve", 0.0),
        ("funding", None),
    )

    def __init__(self) -> None:
        self.perps = [d for d in self.datas if d._name in self.p.funding]
        self.curve: list[float] = []
        self.failed: list[str] = []
        self.pending: dict[bt.AbstractDataBase, float] | None = None  # weights decided, not yet traded
        self.sized_on = 0.0
        self.funding_paid = 0.0
        self.fees = 0.0
        self.fills = 0

    # --- helpers ----------------------------------------------------------------------------------

    def bar(self, data: bt.AbstractDataBase) -> int:
        ms = round((data.datetime[0] - _EPOCH) * DAY_MS)
        return round((ms - self.p.t0) / self.p.bar_ms)

    def equity(self) -> float:
        return self.broker.getvalue() - self.p.reserve

    def prints(self, name: str, k: int) -> tuple[list[float], list[float]]:
        """Rates printed at bar k's open, and strictly inside bar k."""
        times, rates = self.p.funding[name]
        t_open = self.p.t0 + k * self.p.bar_ms
        lo = bisect.bisect_left(times, t_open)
        mid = bisect.bisect_right(times, t_open)
        hi = bisect.bisect_left(times, t_open + self.p.bar_ms)
        return rates[lo:mid], rates[mid:hi]

    def pay(self, qty: float, mark: float, rates: Sequence[float]) -> None:
        for rate in rates:
            amount = -qty * mark * rate
            self.broker.add_cash(amount)
            self.funding_paid += amount

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fees += order.executed.comm
            self.fills += 1
        elif order.status in (order.Margin, order.Rejected, order.Canceled, order.Expired):
            self.failed.append(f"{order.data._name} {order.getstatusname()} size {order.created.size}")

    # --- the bar cycle ----------------------------------------------------------------------------

    def next_open(self) -> None:
        k = self.bar(self.datas[0])
        if k < self.p.start:
            return
        held = {d: self.getposition(d).size for d in self.perps}
        inside = {}
        for d in self.perps:
            at_open, inside[d] = self.prints(d._name, k)
            self.pay(held[d], d.open[0], at_open)
        if self.pending is not None:
            for d, target in self.quantities().items():
                self.order_target_size(data=d, target=target)
                if d in held:
                    held[d] = target
            self.pending = None
        for d in self.perps:
            self.pay(held[d], d.open[0], inside[d])

    def quantities(self) -> dict[bt.AbstractDataBase, float]:
        """The pending weights as quantities: weight x the equity at the decision / this bar's open."""
        assert self.pending is not None
        return {d: w * self.sized_on / d.open[0] for d, w in self.pending.items()}

    def next(self) -> None:
        k = self.bar(self.datas[0]) + 1  # the decision taken at this close is for bar k
        if k - 1 >= self.p.start:
            self.curve.append(self.equity())
        if k >= self.p.start:
            self.decide(k)

    def decide(self, k: int) -> None:
        raise NotImplementedError


class CarryBT(PerpBook):
    """Long spot + short perp, equal quantities, entered at the first decision where the perp's mean
    funding APR over ``lookback_days`` (the prints in (t - days, t], sum x 365 / days, t the decision
    time) is positive and, less the round trip 2 x (spot + perp taker) + 4 x slippage amortised over
    ``hold_days``, nets at least ``min_carry_apr`` (not before the prints cover the whole window); held
    to the end. The pair takes
    ``1 / (1 + 1 / leverage)`` of the equity as spot notional (the rest is the perp's margin)."""

    params = (
        ("lookback_days", 30.0),
        ("hold_days", 30.0),
        ("min_carry_apr", 0.05),
        ("round_trip", 0.0),
        ("leverage", 1.0),
    )

    def __init__(self) -> None:
        super().__init__()
        self.perp, self.spot = self.datas
        self.entered_at: int | None = None

    def decide(self, k: int) -> None:
        if self.entered_at is not None:
            return
        times, rates = self.p.funding[self.perp._name]
        t = self.p.t0 + k * self.p.bar_ms
        span = self.p.lookback_days * DAY_MS
        if not times or times[0] > t - span:
            return  # the window is not covered yet
        window = rates[bisect.bisect_right(times, t - span) : bisect.bisect_right(times, t)]
        apr = math.fsum(window) * 365.0 / self.p.lookback_days
        net = apr - self.p.round_trip * 365.0 / self.p.hold_days
        if apr > 0 and net >= self.p.min_carry_apr:
            self.entered_at = k
            self.sized_on = self.equity()
            self.pending = {self.perp: -1.0 / (1.0 + 1.0 / self.p.leverage)}

    def quantities(self) -> dict[bt.AbstractDataBase, float]:
        """The perp's quantity from its weight; the spot leg buys as much as the perp sells."""
        q = super().quantities()[self.perp]
        return {self.perp: q, self.spot: -q}


class TrendBT(PerpBook):
    """Each perp's combined signal (mean of the MA crossover's sign, the Donchian state and the scaled
    momentum) x ``max_weight`` x ``leverage_cap``, the book scaled down when its gross passes
    ``leverage_cap``; every ``every`` bars from the first decision that holds a position."""

    params = (
        ("ma_fast", 10),
        ("ma_slow", 30),
        ("donchian", 20),
        ("momentum", 30),
        ("max_weight", 0.5),
        ("leverage_cap", 1.0),
        ("every", 21),
    )

    def __init__(self) -> None:
        super().__init__()
        self.signals: Mapping[bt.AbstractDataBase, tuple[object, ...]] = {
            d: (
                bt.ind.SMA(d.close, period=self.p.ma_fast),
                bt.ind.SMA(d.close, period=self.p.ma_slow),
                DonchianState(d.close, window=self.p.donchian),
                ScaledMomentum(d.close, lookback=self.p.momentum),
            )
            for d in self.datas
        }
        self.first: int | None = None

    def combined(self, d: bt.AbstractDataBase) -> float:
        fast, slow, donchian, momentum = self.signals[d]
        diff = fast[0] - slow[0]  # type: ignore[index]
        ma = (diff > 0) - (diff < 0)
        return (ma + donchian.state[0] + momentum.mom[0]) / 3.0  # type: ignore[attr-defined]

    def decide(self, k: int) -> None:
        if self.first is not None and (k - self.first) % self.p.every:
            return
        cap = self.p.leverage_cap
        w = {d: self.combined(d) * self.p.max_weight * cap for d in self.datas}
        gross = math.fsum(abs(x) for x in w.values())
        if gross > cap:
            w = {d: x * (cap / gross) for d, x in w.items()}
        if self.first is None:
            if gross == 0:
                return  # an empty book is no entry: ask again at the next bar
            self.first = k
        self.sized_on = self.equity()
        self.pending = w
