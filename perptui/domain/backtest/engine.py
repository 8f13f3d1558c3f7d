"""The backtest's accounting: layers of targets turned into fills, funding, margin and equity on a
``MarketHistory``. Pure numpy.

Each layer is a sub-account with its own capital, run on its own; the result lists the layers in the
order given and every ledger row carries its layer's index. The run covers bars ``start .. end - 1``.

Decisions
    At each rebalance bar k the layer asks ``strategy.targets(k)`` (``prepare(history)`` is called
    once first). None is no view: the layer keeps what it holds (flat before its first view), and
    before the first entry it asks again at every bar. The first view is the first entry (a strategy
    with nothing worth holding yet says None, not an empty book: the carry until a pair qualifies);
    afterwards the layer rebalances every ``schedule.every_bars`` bars counted from the first entry
    (None: never again), and also at the bar after a close where a position's weight
    ``q x price / equity`` strays from its target by more than ``schedule.drift``.
Sizing
    ``q = weight x equity / reference``, with the equity at the close of bar k - 1 and the reference
    ``open[k]`` (perp) or ``spot_open[k]`` (spot); a hedged spot leg (``LayerTargets.hedge``) takes
    minus the perp's quantity instead (a carry pair holds equal quantities). A book whose initial
    margin (perp notional over its leverage) plus spot notional (paid in cash; a short spot is
    collateralised alike) exceeds the equity is scaled down to fit (noted once, with a count). Only
    changed quantities trade (a change below 1e-9 of the equity is skipped). A target on a symbol
    without an open price at k is not traded (noted). Where the history carries a perp's order rules
    (``MarketHistory.rules``, from the cached markets) the perp targets go through
    ``domain.market_rules``: whole steps toward zero, and a trade under the minimum quantity or
    notional (the notional only for one that opens or adds) is not made (counted in the notes).
Fills
    At ``open[k]`` moved against the trade by the slippage (a buy at ``open x (1 + slippage)``), fee
    ``|qty| x price x taker``. Trades and isolated liquidations are stamped with their bar's open
    time, closes (a market that stops, a ruined layer) and cross liquidations with the bar's close
    time.
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
    Each layer margins its perps as its strategy's ``margin_mode`` says (``MARGIN_MODES``; without
    the attribute: isolated). The fit at a rebalance is the same in both modes (see Sizing).

    Isolated (each perp position on its own margin): the entry notional over its leverage when it opens,
    and at each later rebalance a margin balance of its notional there over its leverage (as if
    re-opened at that bar; see ``margin``). Liquidation price from the history's tiers (skipped, and
    noted, for a symbol without tiers). A long is liquidated in the first bar whose low reaches the
    price, a short whose high does, the entry bar included. It closes there at that price (before any
    print strictly inside the bar; a bar opening beyond it still fills at it), the exchange keeps the
    remaining maintenance margin (booked as the fill's fee, so the position loses exactly its margin
    balance), and the layer holds nothing in that symbol until its next rebalance. The ranges are
    last-price bars (there are no mark-price bars).

    Cross (the layer is one account, as a carry book under Binance's portfolio margin: every leg,
    perp and spot, is collateral, so a short perp's loss is carried by its spot twin's gain): no
    position has a liquidation price of its own. The layer's maintenance margin is the sum over its
    perp positions of their tier maintenance at their notional, ``|q| x close`` (spot legs need
    none; a symbol without tiers adds none, noted). The layer is liquidated at the first bar close
    where its equity is at or below its maintenance margin (a positive one). The check is at closes
    only: the path of several legs inside a bar is unknown (their highs and lows need not come at
    the same moment), so a dip inside a bar that recovers by its close is not seen, and a close far
    past the threshold is booked at that close. Then every position, perp and spot, closes at that
    close as a liquidation fill (the exchange sells the collateral; no taker fee on any of them),
    and the exchange keeps what is left of the equity (all of it: the whole account is the margin),
    booked as the fees of the perp fills in proportion to their maintenance margins, so the identity
    holds. The layer is left with nothing (or its deficit, when the close is past bankruptcy) and
    stops, as a ruined one does.
A layer whose equity falls to zero or below closes everything at that bar's close and stops (noted).

The engine loops over events (rebalances, liquidations, market stops, drift, ruin), never over bars
and assets: the stretch of bars between two events is valued at once with numpy. Inside, a layer's
book is one vector of 2N legs, the N perps then the N spot twins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from perptui.domain.backtest.history import MarketHistory
from perptui.domain.backtest.margin import (
    MARGIN_MODES,
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
from perptui.domain.market_rules import check_qty, floor_to_step
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
    """Per column, the last bar with any price (-1: none)."""
    has = np.isfinite(first) | np.isfinite(second)
    t = has.shape[0]
    return np.where(has.any(axis=0), t - 1 - np.argmax(has[::-1], axis=0), -1)


@dataclass(frozen=True, slots=True, eq=False)
class _Market:
    """What every layer reads, computed once per run; legs are columns 0..N-1 (perps) and N..2N-1
    (their spot twins)."""

    h: MarketHistory
    n: int
    start: int
    end: int
    bar_ms: int
    ref: np.ndarray  # (T, 2N) opens: the fill references (NaN: no price, no trade)
    value: np.ndarray  # (T, 2N) price at each close, carried forward
    mark: np.ndarray  # (T, N) perp price at each open, carried forward
    stops: np.ndarray  # (2N,) the last bar with a price where the data ends before the history does
    fund_time: np.ndarray  # the prints of the run's bars
    fund_sym: np.ndarray
    fund_rate: np.ndarray
    fund_bar: np.ndarray
    liq_table: LiquidationTable

    @classmethod
    def of(cls, h: MarketHistory, start: int, end: int) -> _Market:
        mark, value_perp = _ffill_prices(h.open, h.close)
        _, value_spot = _ffill_prices(h.spot_open, h.spot_close)
        last = np.concatenate([_last_bar(h.open, h.close), _last_bar(h.spot_open, h.spot_close)])
        t0, bar_ms = int(h.times[0]), h.bar_ms
        lo, hi = np.searchsorted(h.funding_time, [t0 + start * bar_ms, t0 + end * bar_ms], side="left")
        fund_time = h.funding_time[lo:hi].astype(np.int64)
        return cls(
            h=h,
            n=len(h.symbols),
            start=start,
            end=end,
            bar_ms=bar_ms,
            ref=np.hstack([h.open, h.spot_open]),
            value=np.hstack([value_perp, value_spot]),
            mark=mark,
            stops=np.where(last < h.n_bars - 1, last, -1),
            fund_time=fund_time,
            fund_sym=h.funding_symbol[lo:hi].astype(np.int64),
            fund_rate=h.funding_rate[lo:hi].astype(np.float64),
            fund_bar=(fund_time - t0) // bar_ms,
            liq_table=LiquidationTable.of(h.tiers, len(h.symbols)),
        )

    def time(self, k: int) -> int:
        """Open time of bar k (also for k = T: the close of the last bar)."""
        return int(self.h.times[0]) + k * self.bar_ms

    def leg_name(self, j: int | np.integer) -> str:
        return f"{self.h.symbols[j % self.n]} {LEG_NAMES[j // self.n]}"


class _Chunks:
    """Ledger columns built from per-event arrays (scalars stand for a whole column), joined once at
    the end."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.parts: list[tuple[int, dict[str, Any]]] = []  # arrays or scalars

    def add(self, size: int, **cols: object) -> None:
        self.parts.append((size, cols))

    def arrays(self, dtypes: dict[str, type]) -> dict[str, np.ndarray]:
        sizes = np.array([size for size, _ in self.parts], dtype=np.int64)
        out: dict[str, np.ndarray] = {}
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
_FILL_TYPES: dict[str, type] = dict(
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
_FUND_TYPES: dict[str, type] = dict(
    time=np.int64, symbol=np.int64, qty=float, mark=float, rate=float, amount=float, layer=np.int8
)


class _Layer:
    """One sub-account run through the history: its book (2N legs), its cash accounts, its ledgers."""

    def __init__(
        self,
        m: _Market,
        strategy: LayerStrategy,
        capital: float,
        index: int,
        costs: Costs,
        schedule: Schedule,
    ) -> None:
        n, k = m.n, m.end - m.start
        self.m, self.strategy, self.capital, self.index = m, strategy, capital, index
        self.slippage, self.schedule = costs.slippage, schedule
        self.taker = np.repeat([costs.perp_taker, costs.spot_taker], n)
        self.q = np.zeros(2 * n)
        self.qp = self.q[:n]  # a view: the perp legs
        self.entry, self.lev = np.full(n, np.nan), np.ones(n)
        self.wallet, self.liq = np.zeros(n), np.full(n, np.nan)
        self.target, self.skip = np.zeros(2 * n), np.zeros(2 * n, bool)
        self.price_cash = self.fees = self.funding = 0.0
        self.equity = np.empty(k)
        self.gross, self.traded = np.zeros(k), np.zeros(k)
        self.held = np.zeros((k, 2 * n), bool)
        self.fills, self.prints = _Chunks(_FILL_COLS), _Chunks(_FUND_COLS)
        self.cross = getattr(strategy, "margin_mode", "isolated") == "cross"
        self.first: int | None = None
        self.alive = True
        self.liquidations = self.scaled = self.below_minimum = 0
        self.untraded: dict[int, list[int]] = {}
        self.no_tiers: set[int] = set()
        self.notes: list[str] = []

    # --- accounts ---------------------------------------------------------------------------------

    @property
    def cash(self) -> float:
        return self.capital + self.price_cash - self.fees + self.funding

    def value_at_close(self, k: int) -> float:
        held = np.flatnonzero(self.q)
        return float(self.m.value[k, held] @ self.q[held])

    def fill(
        self,
        time: int,
        k: int,
        legs: np.ndarray,
        qty: np.ndarray,
        price: np.ndarray,
        fee: np.ndarray,
        kind: int,
    ) -> None:
        """Book fills of the legs ``legs`` at bar k: cash, fees, traded notional, the ledger."""
        if legs.size == 0:
            return
        leg, symbol = np.divmod(legs, self.m.n)
        self.fills.add(
            legs.size,
            time=np.int64(time),
            symbol=symbol,
            leg=leg,
            qty=qty,
            price=price,
            fee=fee,
            layer=np.int8(self.index),
            kind=np.int8(kind),
        )
        self.price_cash -= float(qty @ price)
        self.fees += float(fee.sum())
        self.traded[k - self.m.start] += float(np.abs(qty) @ price)
        self.q[legs] += qty

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
        m, every = self.m, self.schedule.every_bars
        k, paid, decided, drift_due = m.start, -1, -1, False
        while k < m.end:
            if not self.alive:
                self.equity[k - m.start :] = self.cash
                break
            if paid != k:  # the prints at bar k's open, paid by the book held before its trades
                lo, hi = np.searchsorted(m.fund_time, [m.time(k), m.time(k) + 1])
                self.pay(np.arange(lo, hi))
                paid = k
            due = self.first is None or (
                every is not None and k > self.first and (k - self.first) % every == 0
            )
            if decided != k and (due or drift_due):
                decided, drift_due = k, False
                targets = self.strategy.targets(k)
                if targets is not None:
                    self.rebalance(k, targets)
                    self.first = k if self.first is None else self.first
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
        """Value bars a .. b - 1 with the book held after bar a's trades, up to the first event, and
        handle it. Returns the bar to go on from, whether it rebalances for drift, and whether a
        liquidation restarts the stretch inside a bar."""
        m, h = self.m, self.m.h
        held = np.flatnonzero(self.q)
        v = m.value[a:b, held]
        value, gross = v @ self.q[held], np.abs(v) @ np.abs(self.q[held])
        lo = np.searchsorted(m.fund_time, m.time(a), side="right")
        hi = np.searchsorted(m.fund_time, m.time(b), side="left")
        sel = np.arange(lo, hi)
        sym = m.fund_sym[sel]
        keep = self.qp[sym] != 0
        sel, sym = sel[keep], sym[keep]
        amounts = -self.qp[sym] * m.mark[m.fund_bar[sel], sym] * m.fund_rate[sel]
        equity = (
            self.cash + np.cumsum(np.bincount(m.fund_bar[sel] - a, weights=amounts, minlength=b - a)) + value
        )

        liq = None if self.cross else first_liquidation(h.low[a:b], h.high[a:b], self.qp, self.liq)
        close_row = self.first_close_event(a, b, equity, v, held)
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
        self.held[a - s : b - s, self.q != 0] = True

    def first_close_event(
        self, a: int, b: int, equity: np.ndarray, v: np.ndarray, held: np.ndarray
    ) -> int | None:
        """The first bar close (row from a) where a held market stops, the equity is gone, a cross
        layer's equity is at or below its maintenance margin, or a weight has drifted past the
        threshold (one vector op each over the stretch)."""
        rows = []
        stops = self.m.stops[held]
        stops = stops[(stops >= a) & (stops < b)]
        if stops.size:
            rows.append(int(stops.min()) - a)
        ruin = np.flatnonzero(equity <= 0)
        if ruin.size:
            rows.append(int(ruin[0]))
        if self.cross:
            perps = np.count_nonzero(held < self.m.n)  # the perp legs come first in ``held``
            maintenance = self.maintenance(held[:perps], v[:, :perps]).sum(axis=1)
            margin_call = np.flatnonzero((maintenance > 0) & (equity <= maintenance))
            if margin_call.size:
                rows.append(int(margin_call[0]))
        if self.schedule.drift is not None and self.first is not None:
            drift = np.flatnonzero(self.drifted(equity, v, held))
            if drift.size:
                rows.append(int(drift[0]))
        return min(rows) if rows else None

    def drifted(self, equity: np.ndarray, v: np.ndarray, held: np.ndarray) -> np.ndarray:
        """Per bar close, whether any leg's weight strays from its target past the threshold (legs
        skipped until the next rebalance left out; a target not held counts as weight 0)."""
        thr = float(self.schedule.drift)  # type: ignore[arg-type]  # called only when a drift is set
        keep = ~self.skip[held]
        cols = held[keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = v[:, keep] * self.q[cols] / np.where(equity > 0, equity, np.nan)[:, None]
            out = (np.abs(weight - self.target[cols]) > thr).any(axis=1)
        idle = (self.q == 0) & ~self.skip & (np.abs(self.target) > thr)
        return out | bool(idle.any())

    # --- events -----------------------------------------------------------------------------------

    def rebalance(self, k: int, targets: LayerTargets) -> None:
        """Trade to the targets at bar k's open (see the module docstring)."""
        m, n = self.m, self.m.n
        equity = self.capital if k == m.start else float(self.equity[k - 1 - m.start])
        w, lev = _checked(targets, n, self.strategy, m.time(k))
        need = float(np.abs(w[:n]) @ (1 / lev) + np.abs(w[n:]).sum())
        if need > 1 + 1e-12:
            w, self.scaled = w / need, self.scaled + 1
        ref = m.ref[k]
        ok = np.isfinite(ref)
        for j in np.flatnonzero((w != 0) & ~ok):
            self.untraded.setdefault(int(j), []).append(k)
        self.skip, self.target = ~ok, np.where(ok, w, 0.0)
        with np.errstate(invalid="ignore"):
            wanted = np.where(ok, w * equity / ref, 0.0)
            if m.h.rules:
                self.lots(wanted, ref, ok)
            if targets.hedge is not None:
                pairs = np.flatnonzero(np.asarray(targets.hedge, dtype=bool) & ok[:n] & ok[n:])
                wanted[n + pairs] = -wanted[pairs]
            delta = np.where(ok, wanted - self.q, 0.0)
            legs = np.flatnonzero(ok & (np.abs(delta * ref) > MIN_TRADE * abs(equity)))
        d = delta[legs]
        price = ref[legs] * (1 + self.slippage * np.sign(d))
        perp = legs < n
        sym, dp, pp = legs[perp], d[perp], price[perp]
        self.entry[sym] = average_entry(self.qp[sym], dp, pp, self.entry[sym])
        self.fill(m.time(k), k, legs, d, price, np.abs(d) * price * self.taker[legs], KIND_TRADE)
        ok_p = ok[:n]
        self.lev = np.where(ok_p, lev, self.lev)
        basis = ref[:n].copy()
        basis[sym] = pp
        self.remargin(np.flatnonzero(ok_p), basis)

    def lots(self, wanted: np.ndarray, ref: np.ndarray, ok: np.ndarray) -> None:
        """Perp targets the market takes (``domain.market_rules``), in place: each position whole steps
        (toward zero), and a trade under the market's minimum quantity or notional is not made (the leg
        keeps what it holds; a trade that only reduces needs no minimum notional). A market's maximum
        per order is not applied: a bigger change is several orders."""
        for j, rules in enumerate(self.m.h.rules):
            if rules is None or not ok[j]:
                continue
            held, target = float(self.q[j]), float(wanted[j])
            target = math.copysign(floor_to_step(abs(target), rules.step), target)
            delta = target - held
            if delta == 0:
                wanted[j] = held
                continue
            reducing = held != 0 and (delta > 0) != (held > 0) and abs(delta) <= abs(held)
            if check_qty(replace(rules, max_qty=None), abs(delta), float(ref[j]), reducing=reducing):
                target, self.below_minimum = held, self.below_minimum + 1
            wanted[j] = target

    def remargin(self, cols: np.ndarray, basis: np.ndarray) -> None:
        """Set the isolated wallets of the perp positions ``cols`` at ``basis`` prices (see ``margin``)
        and their liquidation prices (none in cross margin: the layer is checked as a whole)."""
        qp, table = self.qp, self.m.liq_table
        if self.cross:
            held = cols[qp[cols] != 0]
            self.no_tiers.update(int(i) for i in held[~table.known[held]])
            return
        self.wallet[cols] = rebased_wallet(qp[cols], self.entry[cols], basis[cols], self.lev[cols])
        self.liq[cols] = np.nan
        held = cols[qp[cols] != 0]
        self.liq[held] = table.prices(held, qp, self.entry, self.wallet)
        self.no_tiers.update(int(i) for i in held[~table.known[held]])

    def maintenance(self, perps: np.ndarray, value: np.ndarray) -> np.ndarray:
        """The maintenance margin of the held perps ``perps`` valued at ``value`` (bars x perps, the
        prices at closes), per bar and position."""
        return self.m.liq_table.maintenance(perps, np.abs(value * self.qp[perps]))

    def flat_perps(self, cols: np.ndarray) -> None:
        self.entry[cols], self.wallet[cols], self.liq[cols] = np.nan, 0.0, np.nan

    def liquidate(self, k: int, cols: np.ndarray) -> None:
        """Close the perps ``cols`` at their liquidation prices inside bar k; the exchange keeps the
        rest of their margin."""
        q, price = self.qp[cols].copy(), self.liq[cols].copy()
        fee = liquidation_fee(q, self.entry[cols], self.wallet[cols], price)
        self.fill(self.m.time(k), k, cols, -q, price, fee, KIND_LIQUIDATION)
        self.flat_perps(cols)
        self.skip[cols] = True
        self.liquidations += len(cols)
        for i, p in zip(cols, price, strict=True):
            self.notes.append(
                f"{self.m.h.symbols[i]} liquidated at {p:.6g} in the bar of {iso_utc(self.m.time(k))}"
            )

    def close_legs(self, k: int, legs: np.ndarray) -> None:
        """Close legs at bar k's close (their last known price), paying the taker fee."""
        qty, price = -self.q[legs], self.m.value[k, legs]
        self.fill(self.m.time(k + 1), k, legs, qty, price, np.abs(qty) * price * self.taker[legs], KIND_CLOSE)
        self.flat_perps(legs[legs < self.m.n])
        self.skip[legs] = True

    def at_close(self, k: int) -> bool:
        """Bar k's close events: markets that stop, a cross margin call, ruin, drift. Whether bar
        k + 1 rebalances."""
        m = self.m
        stopped = np.flatnonzero((self.q != 0) & (m.stops == k))
        for j in stopped:
            self.notes.append(
                f"{m.leg_name(j)}: its market has no bars after {iso_utc(m.time(k))}; "
                f"closed at its last close {m.value[k, j]:.6g}"
            )
        self.close_legs(k, stopped)
        equity = self.cash + self.value_at_close(k)
        if self.cross and self.margin_call(k, equity):
            equity = self.cash
        elif equity <= 0:
            self.close_legs(k, np.flatnonzero(self.q))
            self.alive, equity = False, self.cash
            self.notes.append(
                f"equity fell to {equity:.6g} at the close of {iso_utc(m.time(k))}: "
                "closed everything and stopped trading"
            )
        self.equity[k - m.start] = equity
        if not self.alive or self.schedule.drift is None or self.first is None:
            return False
        held = np.flatnonzero(self.q)
        return bool(self.drifted(np.array([equity]), m.value[k : k + 1, held], held)[0])

    def margin_call(self, k: int, equity: float) -> bool:
        """Cross margin at bar k's close: when the equity is at or below the maintenance margin, every
        position closes at that close (the perps and the spot collateral as liquidation fills), the
        exchange keeps what is left of the equity (the fees of the perp fills, shared in proportion
        to each perp's maintenance margin) and the layer stops. Whether it happened."""
        m, n = self.m, self.m.n
        perps = np.flatnonzero(self.qp)
        per = self.maintenance(perps, m.value[k, perps])
        maintenance = float(per.sum())
        if not (maintenance > 0 and equity <= maintenance):
            return False
        legs = np.flatnonzero(self.q)
        qty, price = -self.q[legs], m.value[k, legs]
        kept = max(equity, 0.0)
        fee = np.zeros(legs.size)
        fee[legs < n] = kept * per / maintenance
        self.fill(m.time(k + 1), k, legs, qty, price, fee, KIND_LIQUIDATION)
        self.flat_perps(perps)
        self.skip[legs] = True
        self.liquidations += perps.size
        self.alive = False
        self.notes.append(
            f"cross margin: equity {equity:.6g} at or below the maintenance margin {maintenance:.6g} at "
            f"the close of {iso_utc(m.time(k))}: every position liquidated there, the exchange kept "
            f"{kept:.6g}; stopped trading"
        )
        return True

    def result_notes(self) -> list[str]:
        """What this layer's run had to do or could not do, said once each."""
        m, notes = self.m, list(self.notes)
        if self.scaled:
            notes.append(
                f"the book asked for more margin than the equity {self.scaled} time(s): scaled down to fit"
            )
        for j, bars in self.untraded.items():
            notes.append(
                f"{m.leg_name(j)}: targeted at {len(bars)} rebalance(s) without an open price (first "
                f"{iso_utc(m.time(bars[0]))}): not traded"
            )
        if self.below_minimum:
            notes.append(
                f"{self.below_minimum} perp trade(s) under the market's minimum quantity or notional were "
                "not made (quantities are whole steps)"
            )
        if self.no_tiers:
            names = ", ".join(m.h.symbols[i] for i in sorted(self.no_tiers))
            check = "no maintenance margin counted" if self.cross else "no liquidation check"
            notes.append(f"no leverage tiers for {names}: {check} for them")
        return [f"{self.strategy.name}: {note}" for note in notes]

    def result(self) -> LayerResult:
        return LayerResult(
            name=self.strategy.name,
            capital=self.capital,
            equity=np.concatenate([[self.capital], self.equity]),
            gross=self.gross,
            traded=self.traded,
            price_pnl=self.price_cash + self.value_at_close(self.m.end - 1),
            funding_pnl=self.funding,
            fees=self.fees,
            liquidations=self.liquidations,
        )


def _checked(
    targets: LayerTargets, n: int, strategy: LayerStrategy, time: int
) -> tuple[np.ndarray, np.ndarray]:
    """The targets as one vector of 2N leg weights, and the perps' leverage (1 where there is none)."""
    arrays = []
    for name in ("perp", "spot", "leverage"):
        value = np.asarray(getattr(targets, name), dtype=float)
        if value.shape != (n,) or not np.isfinite(value).all():
            raise UsageError(
                f"strategy {strategy.name!r} gave {name} targets of shape {value.shape} with non-finite "
                f"values at {iso_utc(time)}: expected {n} finite numbers, one per symbol"
            )
        arrays.append(value)
    perp, spot, lev = arrays
    if (lev[perp != 0] <= 0).any():
        raise UsageError(
            f"strategy {strategy.name!r} gave a leverage <= 0 at {iso_utc(time)}: use a positive leverage"
        )
    return np.concatenate([perp, spot]), np.where(perp != 0, lev, 1.0)


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
        mode = getattr(strategy, "margin_mode", "isolated")
        if mode not in MARGIN_MODES:
            raise UsageError(
                f"layer {strategy.name!r} has margin mode {mode!r}: use one of {', '.join(MARGIN_MODES)}"
            )
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
    h = m.h
    has = np.hstack(
        [np.isfinite(h.open) | np.isfinite(h.close), np.isfinite(h.spot_open) | np.isfinite(h.spot_close)]
    )
    has = has[m.start : m.end]
    held = np.any([layer.held for layer in layers], axis=0)
    notes = []
    for j in np.flatnonzero((~has & held).any(axis=0)):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], (~has[:, j]).astype(np.int8), [0]])))
        for lo, hi in zip(edges[0::2], edges[1::2], strict=True):
            if held[lo:hi, j].any():
                notes.append(
                    f"{m.leg_name(j)}: no bars from {iso_utc(m.time(m.start + lo))} to "
                    f"{iso_utc(m.time(m.start + hi - 1))}; held positions were valued at their last known "
                    "price through the gap"
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
