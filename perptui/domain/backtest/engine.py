"""The backtest's accounting: layers of targets turned into fills, funding, margin and equity on a
``MarketHistory``. Pure numpy.

Each layer is a sub-account with its own capital, run on its own; the result lists the layers in the
order given and every ledger row carries its layer's index. The run covers bars ``start .. end - 1``.

Decisions
    At each rebalance bar k the layer asks ``strategy.targets(k)`` (``prepare(history)`` is called
    once first). None is no view: the layer keeps what it holds (flat before its first view), and
    before the first entry it asks again at every bar. The first view is the first entry; afterwards
    the layer rebalances every ``schedule.every_bars`` bars counted from the first entry (None: never
    again), and also at the bar after a close where a position's weight ``q x price / equity`` strays
    from its target by more than ``schedule.drift``.
Sizing
    ``q = weight x equity / reference``, with the equity at the close of bar k - 1 and the reference
    ``open[k]`` (perp) or ``spot_open[k]`` (spot). A book whose initial margin (perp notional over its
    leverage) plus spot notional (paid in cash; a short spot is collateralised alike) exceeds the
    equity is scaled down to fit (noted once, with a count). Only changed quantities trade (a change
    below 1e-9 of the equity is skipped). A target on a symbol without an open price at k is not
    traded (noted).
Fills
    At ``open[k]`` moved against the trade by the slippage (a buy at ``open x (1 + slippage)``), fee
    ``|qty| x price x taker``. Fills are stamped with the bar's open time, closes at a bar's close with
    its close time.
Equity
    At each bar close: capital + price PnL (the slippage is in it, fills are worse) + funding - fees,
    every position valued at its last price. A symbol with a gap (NaN bars, then prices again) is
    valued at its last known price through the gap and the gap is noted; one whose data ends (market
    stopped) is closed at its last close (a close fill with its fee) and noted. Symbols listed late
    are NaN before their first bar and cannot be traded before it.
Funding
    Per print of a held perp: ``-q x mark x rate``. A print exactly at ``times[k]`` is paid by the
    position held before bar k's trades, one strictly inside bar k by the position held during bar k;
    either way the mark is ``open[k]`` (the last price where the bar has none). The run pays the prints
    of its bars ``start .. end - 1``; one exactly at the run's final close belongs to the next bar.
    Spot legs pay no funding.
Margin and liquidation
    Isolated margin per perp position (see ``margin``), liquidation price from the history's tiers
    (skipped, and noted, for a symbol without tiers). A long is liquidated in the first bar whose low
    reaches the price, a short whose high does, the entry bar included. It closes there at that price
    (before any print strictly inside the bar), the exchange keeps the remaining maintenance margin
    (booked as the fill's fee, so the position loses exactly its margin), and the layer holds nothing
    in that symbol until its next rebalance. Ranges are last-price bars (no mark-price bars).
A layer whose equity falls to zero or below closes everything at that bar's close and stops (noted).

The engine loops over events (rebalances, liquidations, market stops, drift, ruin), never over bars
and assets: the stretch of bars between two events is valued at once with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.margin import (
    LiquidationTable,
    average_entry,
    first_liquidation,
    liquidation_fee,
    rebased_wallet,
)
from perptui.domain.backtest.types import (
    KIND_CLOSE,
    KIND_LIQUIDATION,
    KIND_TRADE,
    LEG_NAMES,
    LEG_PERP,
    LEG_SPOT,
    BacktestResult,
    Costs,
    FillLedger,
    FundingLedger,
    LayerResult,
    LayerStrategy,
    LayerTargets,
    Schedule,
)
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import iso_utc

#: Trades smaller than this fraction of the layer's equity are not made (rounding noise).
MIN_TRADE = 1e-9


def _ffill_prices(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last known price at each bar's open and close: ``first`` (opens) and ``second`` (closes)
    interleaved and carried forward over NaN; NaN before a symbol's first price."""
    t, n = first.shape
    both = np.empty((2 * t, n))
    both[0::2], both[1::2] = first, second
    idx = np.where(np.isfinite(both), np.arange(2 * t)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = both[idx, np.arange(n)]
    return filled[0::2], filled[1::2]


def _last_bar(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per symbol, the last bar with any price (-1: none)."""
    has = np.isfinite(first) | np.isfinite(second)
    t = has.shape[0]
    return np.where(has.any(axis=0), t - 1 - np.argmax(has[::-1], axis=0), -1)


@dataclass(frozen=True, slots=True, eq=False)
class _Market:
    """What every layer reads, computed once per run."""

    h: MarketHistory
    start: int
    end: int
    bar_ms: int
    mark: np.ndarray  # (T, N) perp price at each open, carried forward
    value_perp: np.ndarray  # (T, N) perp price at each close, carried forward
    value_spot: np.ndarray  # (T, N) spot price at each close, carried forward
    last_perp: np.ndarray  # (N,) last bar with a perp price
    last_spot: np.ndarray
    fund_time: np.ndarray  # prints of the run's bars
    fund_sym: np.ndarray
    fund_rate: np.ndarray
    fund_bar: np.ndarray
    liq_table: LiquidationTable

    @classmethod
    def of(cls, h: MarketHistory, start: int, end: int) -> _Market:
        mark, value_perp = _ffill_prices(h.open, h.close)
        _, value_spot = _ffill_prices(h.spot_open, h.spot_close)
        bar_ms = h.bar_ms
        t0 = int(h.times[0])
        lo = np.searchsorted(h.funding_time, t0 + start * bar_ms, side="left")
        hi = np.searchsorted(h.funding_time, t0 + end * bar_ms, side="left")
        fund_time = h.funding_time[lo:hi].astype(np.int64)
        return cls(
            h=h,
            start=start,
            end=end,
            bar_ms=bar_ms,
            mark=mark,
            value_perp=value_perp,
            value_spot=value_spot,
            last_perp=_last_bar(h.open, h.close),
            last_spot=_last_bar(h.spot_open, h.spot_close),
            fund_time=fund_time,
            fund_sym=h.funding_symbol[lo:hi].astype(np.int64),
            fund_rate=h.funding_rate[lo:hi].astype(np.float64),
            fund_bar=(fund_time - t0) // bar_ms,
            liq_table=LiquidationTable.of(h.tiers, len(h.symbols)),
        )

    def time(self, k: int) -> int:
        """Open time of bar k (also for k = T: the close of the last bar)."""
        return int(self.h.times[0]) + k * self.bar_ms


class _Chunks:
    """Ledger columns built from per-event arrays (scalars stand for a whole column), joined once at
    the end."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.parts: list[tuple[int, dict[str, object]]] = []

    def add(self, size: int, **cols: object) -> None:
        self.parts.append((size, cols))

    def arrays(self, dtypes: dict[str, type]) -> dict[str, np.ndarray]:
        sizes = np.array([size for size, _ in self.parts], dtype=np.int64)
        out = {}
        for name in self.names:
            values = [cols[name] for _, cols in self.parts]
            if not values:
                out[name] = np.empty(0, dtypes[name])
            elif all(np.ndim(v) == 0 for v in values):
                out[name] = np.repeat(np.array(values, dtype=dtypes[name]), sizes)
            else:
                pieces = [np.full(n, v) if np.ndim(v) == 0 else v for n, v in zip(sizes, values, strict=True)]
                out[name] = np.concatenate(pieces).astype(dtypes[name])
        return out


_FILL_COLS = ("time", "symbol", "leg", "qty", "price", "fee", "layer", "kind")
_FILL_TYPES = dict(
    time=np.int64,
    symbol=np.int64,
    leg=np.int8,
    qty=float,
    price=float,
    fee=float,
    layer=np.int8,
    kind=np.int8,
)
_FUND_COLS = ("time", "symbol", "qty", "mark", "rate", "amount", "layer")
_FUND_TYPES = dict(
    time=np.int64, symbol=np.int64, qty=float, mark=float, rate=float, amount=float, layer=np.int8
)


class _Layer:
    """One sub-account run through the history: its book, its cash accounts and its ledgers."""

    def __init__(
        self,
        m: _Market,
        strategy: LayerStrategy,
        capital: float,
        index: int,
        costs: Costs,
        schedule: Schedule,
    ) -> None:
        n, k = len(m.h.symbols), m.end - m.start
        self.m, self.strategy, self.capital, self.index = m, strategy, capital, index
        self.costs, self.schedule = costs, schedule
        self.qp, self.qs = np.zeros(n), np.zeros(n)
        self.entry, self.lev = np.full(n, np.nan), np.ones(n)
        self.wallet, self.liq = np.zeros(n), np.full(n, np.nan)
        self.target_p, self.target_s = np.zeros(n), np.zeros(n)
        self.skip_p, self.skip_s = np.zeros(n, bool), np.zeros(n, bool)
        self.price_cash = self.fees = self.funding = 0.0
        self.equity = np.empty(k)
        self.gross, self.traded = np.zeros(k), np.zeros(k)
        self.held_p, self.held_s = np.zeros((k, n), bool), np.zeros((k, n), bool)
        self.fills, self.prints = _Chunks(_FILL_COLS), _Chunks(_FUND_COLS)
        self.first: int | None = None
        self.alive = True
        self.liquidations = self.scaled = 0
        self.untraded: dict[str, list[int]] = {}
        self.no_tiers: set[int] = set()
        self.notes: list[str] = []

    # --- accounts ---------------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        return self.capital + self.price_cash - self.fees + self.funding

    def value_at_close(self, k: int) -> float:
        m, hp, hs = self.m, np.flatnonzero(self.qp), np.flatnonzero(self.qs)
        return float(m.value_perp[k, hp] @ self.qp[hp] + m.value_spot[k, hs] @ self.qs[hs])

    def equity_before(self, k: int) -> float:
        return self.capital if k == self.m.start else float(self.equity[k - 1 - self.m.start])

    def fill(
        self,
        k_time: int,
        k_bar: int,
        cols: np.ndarray,
        leg: int,
        qty: np.ndarray,
        price: np.ndarray,
        fee: np.ndarray,
        kind: int,
    ) -> None:
        if cols.size == 0:
            return
        self.fills.add(
            cols.size,
            time=np.int64(k_time),
            symbol=cols,
            leg=np.int8(leg),
            qty=qty,
            price=price,
            fee=fee,
            layer=np.int8(self.index),
            kind=np.int8(kind),
        )
        self.price_cash -= float(qty @ price)
        self.fees += float(fee.sum())
        self.traded[k_bar - self.m.start] += float(np.abs(qty) @ price)

    def pay(self, sel: np.ndarray) -> None:
        """Book the prints ``sel`` (indices into the run's prints) against the perp quantities held."""
        m = self.m
        sym = m.fund_sym[sel]
        held = self.qp[sym] != 0
        sel, sym = sel[held], sym[held]
        if sel.size == 0:
            return
        qty, mark, rate = self.qp[sym], m.mark[m.fund_bar[sel], sym], m.fund_rate[sel]
        amount = -qty * mark * rate
        self.prints.add(
            sel.size,
            time=m.fund_time[sel],
            symbol=sym,
            qty=qty,
            mark=mark,
            rate=rate,
            amount=amount,
            layer=np.int8(self.index),
        )
        self.funding += float(amount.sum())

    # --- the run ----------------------------------------------------------------------------------

    def run(self) -> None:
        m = self.m
        k, paid, decided, drift_due = m.start, -1, -1, False
        every = self.schedule.every_bars
        while k < m.end:
            if not self.alive:
                self.equity[k - m.start :] = self.cash
                break
            if paid != k:
                lo, hi = np.searchsorted(m.fund_time, [m.time(k), m.time(k) + 1])
                self.pay(np.arange(lo, hi))
                paid = k
            scheduled = self.first is None or (
                every is not None and k > self.first and (k - self.first) % every == 0
            )
            if decided != k and (scheduled or drift_due):
                decided, drift_due = k, False
                targets = self.strategy.targets(k)
                if targets is not None:
                    self.rebalance(k, targets)
                    if self.first is None:
                        self.first = k
            k, drift_due, liquidated = self.segment(k, self.horizon(k))
            if liquidated:
                paid = decided = k

    def horizon(self, k: int) -> int:
        """The bar of the next decision (exclusive end of the stretch valued at once)."""
        m, every = self.m, self.schedule.every_bars
        if self.first is None:
            return min(k + 1, m.end)
        if every is None:
            return m.end
        return min(self.first + ((k - self.first) // every + 1) * every, m.end)

    def segment(self, a: int, b: int) -> tuple[int, bool, bool]:
        """Value bars a .. b - 1 with the book held after bar a's trades, up to the first event;
        handle it. Returns the bar to go on from, whether it is a drift rebalance, and whether a
        liquidation restarted bar a's stretch."""
        m, h = self.m, self.m.h
        hp, hs = np.flatnonzero(self.qp), np.flatnonzero(self.qs)
        vp, vs = m.value_perp[a:b, hp], m.value_spot[a:b, hs]
        value = vp @ self.qp[hp] + vs @ self.qs[hs]
        gross = np.abs(vp) @ np.abs(self.qp[hp]) + np.abs(vs) @ np.abs(self.qs[hs])
        lo = np.searchsorted(m.fund_time, m.time(a), side="right")
        hi = np.searchsorted(m.fund_time, m.time(b), side="left")
        sel = np.arange(lo, hi)
        sel = sel[self.qp[m.fund_sym[sel]] != 0]
        amounts = -self.qp[m.fund_sym[sel]] * m.mark[m.fund_bar[sel], m.fund_sym[sel]] * m.fund_rate[sel]
        funding = np.cumsum(np.bincount(m.fund_bar[sel] - a, weights=amounts, minlength=b - a))
        equity = self.cash + funding + value

        liq = first_liquidation(h.low[a:b], h.high[a:b], self.qp, self.liq)
        close_row = self.first_close_event(a, b, equity, vp, vs, hp, hs)
        if liq is not None and (close_row is None or liq[0] <= close_row):
            row, cols = liq
            self.accept(a, a + row, equity, gross)
            self.pay(sel[m.fund_time[sel] <= m.time(a + row)])
            self.liquidate(a + row, cols)
            return a + row, False, True
        if close_row is None:
            self.accept(a, b, equity, gross)
            self.pay(sel)
            return b, False, False
        k = a + close_row
        self.accept(a, k + 1, equity, gross)
        self.pay(sel[m.fund_bar[sel] <= k])
        return k + 1, self.at_close(k), False

    def accept(self, a: int, b: int, equity: np.ndarray, gross: np.ndarray) -> None:
        s = self.m.start
        self.equity[a - s : b - s] = equity[: b - a]
        self.gross[a - s : b - s] = gross[: b - a]
        self.held_p[a - s : b - s, self.qp != 0] = True
        self.held_s[a - s : b - s, self.qs != 0] = True

    def first_close_event(
        self,
        a: int,
        b: int,
        equity: np.ndarray,
        vp: np.ndarray,
        vs: np.ndarray,
        hp: np.ndarray,
        hs: np.ndarray,
    ) -> int | None:
        """The first bar close (row from a) where a held market stops, the equity is gone, or a weight
        has drifted past the threshold."""
        m, rows = self.m, []
        t_last = m.h.n_bars - 1
        for held, last in ((hp, m.last_perp), (hs, m.last_spot)):
            stops = last[held]
            stops = stops[(stops < t_last) & (stops >= a) & (stops < b)]
            if stops.size:
                rows.append(int(stops.min()) - a)
        ruin = np.flatnonzero(equity <= 0)
        if ruin.size:
            rows.append(int(ruin[0]))
        if self.schedule.drift is not None and self.first is not None:
            drift = np.flatnonzero(self.drifted(equity, vp, vs, hp, hs))
            if drift.size:
                rows.append(int(drift[0]))
        return min(rows) if rows else None

    def drifted(
        self, equity: np.ndarray, vp: np.ndarray, vs: np.ndarray, hp: np.ndarray, hs: np.ndarray
    ) -> np.ndarray:
        """Per bar close, whether any position's weight strays from its target past the threshold
        (targets not held and not skipped count as weight 0)."""
        thr = float(self.schedule.drift)  # type: ignore[arg-type]
        eq = np.where(equity > 0, equity, np.nan)[:, None]
        out = np.zeros(len(equity), bool)
        for held, v, q, target, skip in (
            (hp, vp, self.qp, self.target_p, self.skip_p),
            (hs, vs, self.qs, self.target_s, self.skip_s),
        ):
            keep = ~skip[held]
            with np.errstate(invalid="ignore"):
                out |= (np.abs(v[:, keep] * q[held][keep] / eq - target[held][keep]) > thr).any(axis=1)
            idle = (q == 0) & ~skip & (np.abs(target) > thr)
            out |= bool(idle.any())
        return out

    # --- events -----------------------------------------------------------------------------------

    def rebalance(self, k: int, targets: LayerTargets) -> None:
        m, c, h = self.m, self.costs, self.m.h
        n = len(h.symbols)
        equity = self.equity_before(k)
        wp, ws, lev = _checked(targets, n, self.strategy, h.times[k])
        need = float(np.sum(np.abs(wp) / lev) + np.sum(np.abs(ws)))
        if need > 1 + 1e-12:
            wp, ws, self.scaled = wp / need, ws / need, self.scaled + 1
        ok_p, ok_s = np.isfinite(h.open[k]), np.isfinite(h.spot_open[k])
        for leg, w, ok in ((LEG_PERP, wp, ok_p), (LEG_SPOT, ws, ok_s)):
            for i in np.flatnonzero((w != 0) & ~ok):
                self.untraded.setdefault(f"{h.symbols[i]} {LEG_NAMES[leg]}", []).append(k)
        self.skip_p, self.skip_s = ~ok_p, ~ok_s
        self.target_p, self.target_s = np.where(ok_p, wp, 0.0), np.where(ok_s, ws, 0.0)
        basis = h.open[k].copy()
        for leg, w, ok, ref, taker in (
            (LEG_PERP, wp, ok_p, h.open[k], c.perp_taker),
            (LEG_SPOT, ws, ok_s, h.spot_open[k], c.spot_taker),
        ):
            q = self.qp if leg == LEG_PERP else self.qs
            with np.errstate(invalid="ignore"):
                delta = np.where(ok, w * equity / ref - q, 0.0)
                cols = np.flatnonzero(ok & (np.abs(delta * ref) > MIN_TRADE * abs(equity)))
            d = delta[cols]
            price = ref[cols] * (1 + c.slippage * np.sign(d))
            self.fill(m.time(k), k, cols, leg, d, price, np.abs(d) * price * taker, KIND_TRADE)
            if leg == LEG_PERP:
                self.entry[cols] = average_entry(q[cols], d, price, self.entry[cols])
                basis[cols] = price
            q[cols] += d
        self.lev = np.where(ok_p, lev, self.lev)
        self.remargin(np.flatnonzero(ok_p), basis)

    def remargin(self, cols: np.ndarray, basis: np.ndarray) -> None:
        """Set the isolated wallets of the perp positions ``cols`` at ``basis`` prices (see ``margin``)
        and their liquidation prices."""
        qp = self.qp
        self.wallet[cols] = rebased_wallet(qp[cols], self.entry[cols], basis[cols], self.lev[cols])
        self.liq[cols] = self.m.liq_table.prices(cols, qp, self.entry, self.wallet)
        unknown = cols[(qp[cols] != 0) & ~self.m.liq_table.known[cols]]
        self.no_tiers.update(int(i) for i in unknown)

    def liquidate(self, k: int, cols: np.ndarray) -> None:
        q, price = self.qp[cols].copy(), self.liq[cols].copy()
        fee = liquidation_fee(q, self.entry[cols], self.wallet[cols], price)
        self.fill(self.m.time(k), k, cols, LEG_PERP, -q, price, fee, KIND_LIQUIDATION)
        self.qp[cols], self.entry[cols], self.wallet[cols], self.liq[cols] = 0.0, np.nan, 0.0, np.nan
        self.skip_p[cols] = True
        self.liquidations += len(cols)
        for i, p in zip(cols, price, strict=True):
            self.notes.append(
                f"{self.m.h.symbols[i]} liquidated at {p:.6g} in the bar of {iso_utc(self.m.time(k))}"
            )

    def close_legs(self, k: int, cols: np.ndarray, leg: int) -> None:
        """Close positions at bar k's close (its last known price), paying the taker fee."""
        m = self.m
        q = self.qp if leg == LEG_PERP else self.qs
        value = m.value_perp if leg == LEG_PERP else m.value_spot
        taker = self.costs.perp_taker if leg == LEG_PERP else self.costs.spot_taker
        qty, price = -q[cols], value[k, cols]
        self.fill(m.time(k + 1), k, cols, leg, qty, price, np.abs(qty) * price * taker, KIND_CLOSE)
        q[cols] = 0.0
        if leg == LEG_PERP:
            self.entry[cols], self.wallet[cols], self.liq[cols] = np.nan, 0.0, np.nan
            self.skip_p[cols] = True
        else:
            self.skip_s[cols] = True

    def at_close(self, k: int) -> bool:
        """Bar k's close events: markets that stop, ruin, drift. Whether bar k + 1 rebalances."""
        m = self.m
        t_last = m.h.n_bars - 1
        for leg, q, last in ((LEG_PERP, self.qp, m.last_perp), (LEG_SPOT, self.qs, m.last_spot)):
            cols = np.flatnonzero((q != 0) & (last == k) & (last < t_last))
            value = m.value_perp if leg == LEG_PERP else m.value_spot
            for i in cols:
                self.notes.append(
                    f"{m.h.symbols[i]} {LEG_NAMES[leg]}: its market has no bars after {iso_utc(m.time(k))}; "
                    f"closed at its last close {value[k, i]:.6g}"
                )
            self.close_legs(k, cols, leg)
        equity = self.cash + self.value_at_close(k)
        if equity <= 0:
            self.close_legs(k, np.flatnonzero(self.qp), LEG_PERP)
            self.close_legs(k, np.flatnonzero(self.qs), LEG_SPOT)
            self.alive = False
            equity = self.cash
            self.notes.append(
                f"equity fell to {equity:.6g} at the close of {iso_utc(m.time(k))}: "
                "closed everything and stopped trading"
            )
        self.equity[k - m.start] = equity
        if not self.alive or self.schedule.drift is None or self.first is None:
            return False
        hp, hs = np.flatnonzero(self.qp), np.flatnonzero(self.qs)
        vp, vs = m.value_perp[k : k + 1, hp], m.value_spot[k : k + 1, hs]
        return bool(self.drifted(np.array([equity]), vp, vs, hp, hs)[0])

    def result_notes(self) -> list[str]:
        """What this layer's run had to do or could not do, said once each."""
        h, notes = self.m.h, list(self.notes)
        if self.scaled:
            notes.append(
                f"the book asked for more margin than the equity {self.scaled} time(s): scaled down to fit"
            )
        for what, bars in self.untraded.items():
            notes.append(
                f"{what}: targeted at {len(bars)} rebalance(s) without an open price (first "
                f"{iso_utc(self.m.time(bars[0]))}): not traded"
            )
        if self.no_tiers:
            names = ", ".join(h.symbols[i] for i in sorted(self.no_tiers))
            notes.append(f"no leverage tiers for {names}: no liquidation check for them")
        return [f"{self.strategy.name}: {note}" for note in notes]

    def result(self) -> LayerResult:
        last = self.m.end - 1
        price_pnl = self.price_cash + self.value_at_close(last)
        return LayerResult(
            name=self.strategy.name,
            capital=self.capital,
            equity=np.concatenate([[self.capital], self.equity]),
            gross=self.gross,
            traded=self.traded,
            price_pnl=price_pnl,
            funding_pnl=self.funding,
            fees=self.fees,
            liquidations=self.liquidations,
        )


def _checked(
    targets: LayerTargets, n: int, strategy: LayerStrategy, time: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The targets as float arrays of the history's width, leverage 1 where there is no perp."""
    arrays = []
    for name in ("perp", "spot", "leverage"):
        value = np.asarray(getattr(targets, name), dtype=float)
        if value.shape != (n,) or not np.isfinite(value).all():
            raise UsageError(
                f"strategy {strategy.name!r} gave {name} targets of shape {value.shape} with non-finite "
                f"values at {iso_utc(int(time))}: expected {n} finite numbers, one per symbol"
            )
        arrays.append(value.copy())
    perp, spot, lev = arrays
    if (lev[perp != 0] <= 0).any():
        raise UsageError(
            f"strategy {strategy.name!r} gave a leverage <= 0 at {iso_utc(int(time))}: "
            "use a positive leverage"
        )
    return perp, spot, np.where(perp != 0, lev, 1.0)


def _validate(
    history: MarketHistory,
    layers: Sequence[tuple[LayerStrategy, float]],
    costs: Costs,
    schedule: Schedule,
    start: int,
    end: int,
) -> None:
    if not layers or len(layers) > 127:
        raise UsageError(f"a backtest needs 1 to 127 layers, not {len(layers)}")
    for strategy, capital in layers:
        if not np.isfinite(capital) or capital <= 0:
            raise UsageError(f"layer {strategy.name!r} has capital {capital}: use a positive amount")
    if not 0 <= start < end <= history.n_bars:
        raise UsageError(
            f"bars {start}..{end} are not a span of the history's {history.n_bars} bars: "
            "use 0 <= start < end <= the number of bars"
        )
    for name in ("perp_taker", "spot_taker", "slippage"):
        value = getattr(costs, name)
        if not np.isfinite(value) or not 0 <= value < 1:
            raise UsageError(f"cost {name} = {value}: use a fraction in [0, 1), e.g. 0.0005")
    if schedule.every_bars is not None and (
        int(schedule.every_bars) != schedule.every_bars or schedule.every_bars < 1
    ):
        raise UsageError(f"rebalance every {schedule.every_bars} bars: use a whole number >= 1, or never")
    if schedule.drift is not None and not (np.isfinite(schedule.drift) and schedule.drift > 0):
        raise UsageError(f"drift threshold {schedule.drift}: use a positive fraction of equity, e.g. 0.05")


def _gap_notes(m: _Market, layers: Sequence[_Layer]) -> list[str]:
    """The holes in held markets' data (NaN bars between two priced bars) inside the run: the
    positions were valued at their last price through them."""
    h, notes = m.h, []
    for leg, first, second in ((LEG_PERP, h.open, h.close), (LEG_SPOT, h.spot_open, h.spot_close)):
        has = (np.isfinite(first) | np.isfinite(second))[m.start : m.end]
        held = np.zeros(has.shape, bool)
        for layer in layers:
            held |= layer.held_p if leg == LEG_PERP else layer.held_s
        for i in np.flatnonzero((~has & held).any(axis=0)):
            missing = np.concatenate([[0], (~has[:, i]).astype(np.int8), [0]])
            edges = np.flatnonzero(np.diff(missing))
            for lo, hi in zip(edges[0::2], edges[1::2], strict=True):
                if held[lo:hi, i].any():
                    notes.append(
                        f"{h.symbols[i]} {LEG_NAMES[leg]}: no bars from {iso_utc(m.time(m.start + lo))} to "
                        f"{iso_utc(m.time(m.start + hi - 1))}; held positions were valued at their last "
                        "known price through the gap"
                    )
    return notes


def _merged(layers: Sequence[_Layer]) -> tuple[FillLedger, FundingLedger]:
    """Every layer's ledger rows in one ledger, by time (each layer's own order kept within a time)."""
    fills = [layer.fills.arrays(_FILL_TYPES) for layer in layers]
    prints = [layer.prints.arrays(_FUND_TYPES) for layer in layers]
    f = {name: np.concatenate([x[name] for x in fills]) for name in _FILL_COLS}
    p = {name: np.concatenate([x[name] for x in prints]) for name in _FUND_COLS}
    fo, po = np.argsort(f["time"], kind="stable"), np.argsort(p["time"], kind="stable")
    return (
        FillLedger(**{name: col[fo] for name, col in f.items()}),
        FundingLedger(**{name: col[po] for name, col in p.items()}),
    )


def run_backtest(
    history: MarketHistory,
    layers: Sequence[tuple[LayerStrategy, float]],
    *,
    costs: Costs = Costs(),  # noqa: B008 (frozen, immutable)
    schedule: Schedule = Schedule(),  # noqa: B008
    start: int = 0,
    end: int | None = None,
    strategy: str = "custom",
) -> BacktestResult:
    """Run each ``(strategy, capital)`` layer over bars ``start .. end - 1`` (see the module docstring
    for the accounting). Raises UsageError for a bad span, costs, schedule, capital or targets."""
    end = history.n_bars if end is None else int(end)
    start = int(start)
    _validate(history, layers, costs, schedule, start, end)
    market = _Market.of(history, start, end)
    runs = []
    for index, (layer_strategy, capital) in enumerate(layers):
        layer_strategy.prepare(history)
        layer = _Layer(market, layer_strategy, float(capital), index, costs, schedule)
        layer.run()
        runs.append(layer)
    notes = [note for layer in runs for note in layer.result_notes()] + _gap_notes(market, runs)
    fills, funding = _merged(runs)
    return BacktestResult(
        strategy=strategy,
        timeframe=history.timeframe,
        symbols=history.symbols,
        times=int(history.times[0]) + np.arange(start, end + 1, dtype=np.int64) * market.bar_ms,
        layers=tuple(layer.result() for layer in runs),
        fills=fills,
        funding=funding,
        notes=tuple(notes),
    )
