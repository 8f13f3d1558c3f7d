"""The paper account: a local ledger in the store, opened with the configured starting capital.

One paper account per exchange (``paper_account_name``): ``paper`` trades the demo market, and
``paper:<exchange id>`` that exchange's markets, each with its own wallet, positions, orders, equity
history, circuit breaker and settings. ``title`` names it for headers and messages.

Synchronous on purpose: every call is a few small SQLite statements, and the app runs them in thread
workers. Each change (deposit, withdrawal) is one transaction that appends the cash flow and records an
equity snapshot, so a kill leaves either both or neither. Positions are the paper engine's
(``perptui.services.paper``): equity = wallet + unrealised PnL at the newest mark known of each position
(the marks given, else the newest of the engine's live marks, the cached tickers and the position's last
mark), used and free margin and maintenance margin as ``domain.paper_margin`` defines them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace

from perptui.domain.account import (
    MINUTE_MS,
    TRANSFER_KINDS,
    AccountInfo,
    AccountSummary,
    CashFlow,
    check_amount,
    day_start,
    effective_leverage,
    from_units,
    period_pnl,
    risk_budget,
    to_units,
    week_start,
)
from perptui.domain.errors import UsageError
from perptui.domain.paper import PaperPosition
from perptui.domain.paper_margin import MarginState
from perptui.domain.paper_spot import SpotHolding
from perptui.domain.quantities import money
from perptui.domain.risk_pairs import spot_book
from perptui.domain.risk_portfolio import PortfolioRisk, portfolio_risk
from perptui.presentation.parse import parse_number
from perptui.services.accounts.settings import RiskAndPlan
from perptui.services.clock import Clock
from perptui.services.paper.book import MarketBook, tiers_lookup
from perptui.services.paper.state import BookState, TiersOf, load_state
from perptui.services.store import Store, paper_book
from perptui.services.store.paper_accounts import DEMO
from perptui.services.store.paper_accounts import account_name as paper_account_name

#: Snapshots taken by ``snapshot_if_due`` are at least this far apart.
SNAPSHOT_EVERY_MS = MINUTE_MS
#: The built-in demo market's id (``Settings.exchange_name`` without an exchange).
DEMO_EXCHANGE = DEMO


class PaperAccount:
    """The local paper account on ``exchange`` (the ledger account ``paper_account_name(exchange)``
    unless ``name`` is given).

    ``risk_pct``, ``neutral_pct`` and ``directional_pct`` are FRACTIONS (0.01 = 1%): the config's
    defaults, converted once by ``accounts.defaults_from``. ``set_risk_pct`` and ``set_split`` persist
    new values in the store, and those win over the defaults from then on.
    """

    is_paper = True

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        starting_capital: float,
        risk_pct: float,
        neutral_pct: float,
        directional_pct: float,
        currency: str = "USDT",
        exchange: str = DEMO_EXCHANGE,
        name: str | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self.exchange = exchange
        self.name = paper_account_name(exchange) if name is None else name
        self.currency = currency
        self._starting_capital = check_amount(starting_capital, "paper.starting_capital", currency)
        self._plan = RiskAndPlan(
            store,
            clock,
            self.name,
            risk_pct=risk_pct,
            neutral_pct=neutral_pct,
            directional_pct=directional_pct,
        )
        self._info: AccountInfo | None = None
        self._lock = threading.Lock()
        #: (exchange, symbol) -> (time, mark): the newest marks the paper engine has seen.
        self._marks: dict[tuple[str, str], tuple[int, float]] = {}
        #: The paper engines' market books by exchange (their brackets win over the cached ones).
        self._books: dict[str, MarketBook] = {}
        #: (exchange, spot symbol) -> the newest spot price the paper engine has seen.
        self._spot_marks: dict[tuple[str, str], float] = {}

    @property
    def store(self) -> Store:
        return self._store

    @property
    def title(self) -> str:
        """The account's name for a header or a message: ``paper · demo``, ``paper · binanceusdm``."""
        return f"paper · {self.exchange}"

    @property
    def clock(self) -> Clock:
        return self._clock

    # --- the account ------------------------------------------------------------------------------

    def open(self) -> AccountInfo:
        """The account's ledger record, creating it (opening balance + first snapshot) on first use.

        The starting capital only matters then: changing it in the config later does not touch an
        existing account (deposit or withdraw instead).
        """
        with self._lock:
            if self._info is None:
                info = self._store.load_account(self.name)
                if info is None:
                    self._store.create_account(
                        self.name, self.currency, self._clock.now_ms(), self._starting_capital
                    )
                    info = self._store.load_account(self.name)
                assert info is not None
                self._info = info
                self.currency = info.currency
            return self._info

    def summary(self, marks: Mapping[str, float] | None = None) -> AccountSummary:
        """Equity, margin, leverage, risk budget and PnL windows; ``marks`` (symbol -> mark) win over
        every other mark for the positions of those symbols."""
        info = self.open()
        with self._store.read():  # balance, positions, snapshots and flows from one consistent state
            now = self._clock.now_ms()
            st = self._book(marks)
            ms = st.margin(self._tiers(st))
            risk, neutral, directional = self._plan.current()
            pnl_today = self._pnl_since(day_start(now), ms.equity, info)
            pnl_week = self._pnl_since(week_start(now), ms.equity, info)
        return AccountSummary(
            account=self.name,
            exchange=self.exchange,
            currency=info.currency,
            as_of=now,
            equity=ms.equity,
            wallet_balance=ms.wallet,
            free_margin=ms.free_margin,
            used_margin=ms.used_margin,
            unrealized_pnl=ms.unrealized_pnl,
            leverage=effective_leverage(ms.gross_notional, ms.equity),
            risk_pct=risk,
            risk_budget=risk_budget(risk, ms.equity),
            neutral_pct=neutral,
            directional_pct=directional,
            pnl_today=pnl_today,
            pnl_week=pnl_week,
            maintenance_margin=ms.maintenance_margin,
        )

    # --- positions and marks ----------------------------------------------------------------------

    def attach_book(self, book: MarketBook) -> None:
        """Use the paper engine's markets (brackets) for its exchange's positions."""
        self._books[book.exchange] = book

    def _tiers(self, st: BookState) -> TiersOf:
        return tiers_lookup(self._store, st.positions, self._books)

    def note_marks(self, exchange: str, marks: Mapping[str, float], time: int) -> None:
        """Remember live marks (the paper engine calls this) for summaries without marks given."""
        for symbol, mark in marks.items():
            known = self._marks.get((exchange, symbol))
            if known is None or time >= known[0]:
                self._marks[(exchange, symbol)] = (time, mark)

    def note_spot_marks(self, exchange: str, marks: Mapping[str, float]) -> None:
        """Remember spot prices (the paper engine calls this): spot holdings are valued at them."""
        for symbol, price in marks.items():
            self._spot_marks[(exchange, symbol)] = price

    def positions(self, marks: Mapping[str, float] | None = None) -> list[PaperPosition]:
        """Open paper positions (on the account's exchange), ``last_mark`` set to the newest mark known."""
        self.open()
        with self._store.read():
            return list(self._book(marks).positions)

    def spot_holdings(self) -> list[SpotHolding]:
        """Spot held on the account's exchange, at the newest spot prices the engine has seen."""
        self.open()
        with self._store.read():
            return [h for h in self._book(None).spot if h.exchange == self.exchange]

    def margin(self, marks: Mapping[str, float] | None = None) -> MarginState:
        """The account's margin state (``domain.paper_margin.MarginState``) at the newest marks."""
        self.open()
        with self._store.read():
            st = self._book(marks)
            return st.margin(self._tiers(st))

    def _book(self, marks: Mapping[str, float] | None) -> BookState:
        """The book with each position at its newest mark (call inside a read or a transaction)."""
        with self._store.reading() as conn:
            st = load_state(conn, self.name)
            positions = []
            for p in st.positions:
                best = (p.checked_at, p.last_mark) if p.last_mark else (p.opened_at, p.entry)
                for seen in (
                    self._marks.get((p.exchange, p.symbol)),
                    paper_book.latest_mark(conn, p.exchange, p.symbol),
                ):
                    if seen is not None and seen[1] and seen[0] > best[0]:
                        best = seen
                mark = marks[p.symbol] if marks and marks.get(p.symbol) else best[1]
                positions.append(p.with_(last_mark=mark))
        spot = tuple(
            replace(h, last_mark=self._spot_marks.get((h.exchange, h.symbol), h.last_mark)) for h in st.spot
        )
        return replace(st, positions=tuple(positions), spot=spot)

    def portfolio(
        self,
        now: int | None = None,
        marks: Mapping[str, float] | None = None,
        *,
        loss_since: int | None = None,
    ) -> PortfolioRisk:
        """Portfolio risk (``domain.risk_portfolio``) of the paper account: equity, exposure, leverage,
        today's PnL and daily loss net of transfers, drawdown on the equity history; per-position metrics
        at the newest marks (funding fields unset: the engine's ``position_inputs`` has them).
        ``loss_since`` (the circuit breaker's reset today): the daily loss and the drawdown are measured
        from the equity at that time (the snapshot the reset recorded, else the last one before it)."""
        info = self.open()
        with self._store.read():
            now = self._clock.now_ms() if now is None else now
            st = self._book(marks)
            risks = st.risks(self._tiers(st))
            spot = spot_book(risks, st.spot, st.pairs) if st.spot or st.pairs else None
            transfers = [f for f in self._store.load_cash_flows(self.name) if f.kind in TRANSFER_KINDS]
            history = self._store.load_equity(self.name)
            start = day_start(now) if loss_since is None else loss_since
            base = self._store.equity_at(self.name, start)
        if base is None:
            start_equity, since = info.opening_balance, None
        else:
            start_equity, since = base[1], base[0]
        moved_today = sum(f.signed for f in transfers if since is None or f.time > since)
        return portfolio_risk(
            risks,
            st.wallet,
            now_ms=now,
            equity_day_start=start_equity,
            flows_today=moved_today,
            equity_history=history,
            flows=[(f.time, f.signed) for f in transfers],
            loss_since=loss_since,
            spot=spot,
        )

    def _pnl_since(self, start: int, equity: float, info: AccountInfo) -> float:
        base = self._store.equity_at(self.name, start)
        flows = self._store.load_cash_flows(self.name, since=None if base is None else base[0])
        pnl = period_pnl(equity, start, [base] if base else [], flows, info.opening_balance)
        assert pnl is not None
        return round(pnl, 8) + 0.0  # no -0.0 or 1e-13 noise from float arithmetic

    # --- cash -------------------------------------------------------------------------------------

    def deposit(self, amount: float | str) -> CashFlow:
        """Add ``amount`` (0.01 to 1e9; text is read by ``presentation.parse``) to the wallet; returns the
        flow."""
        return self._move("deposit", amount)

    def withdraw(self, amount: float | str) -> CashFlow:
        """Take ``amount`` from the wallet; more than the free margin is refused (UsageError, nothing
        recorded) with the amount that is free."""
        return self._move("withdrawal", amount)

    def _move(self, kind: str, amount: float | str) -> CashFlow:
        if isinstance(amount, str):
            amount = parse_number(amount, money(self.currency))
        value = check_amount(amount, "amount", self.currency)
        self.open()
        now = self._clock.now_ms()
        with self._store.transaction():
            st = self._book(None)
            ms = st.margin(self._tiers(st))
            if kind == "withdrawal":
                free = ms.withdrawable
                if to_units(value) > to_units(free):
                    raise UsageError(
                        f"cannot withdraw {value:,.2f} {self.currency}: only {max(free, 0.0):,.2f} "
                        f"{self.currency} is free"
                    )
            # exact: the ledger compares integer units
            keep = from_units(to_units(ms.wallet) - to_units(ms.withdrawable))
            flow = self._store.add_cash_flow(self.name, now, kind, value, min_balance=keep)
            equity = flow.balance_after + ms.unrealized_pnl
            self._store.record_equity(self.name, now, equity, flow.balance_after)
        return flow

    def cash_flows(self) -> list[CashFlow]:
        """Every flow (opening, deposits, withdrawals, and the paper engine's realised PnL, fees, funding
        and liquidations) in the order recorded; ``signed`` is what each did to the wallet."""
        self.open()
        return self._store.load_cash_flows(self.name)

    # --- snapshots --------------------------------------------------------------------------------

    def snapshot_if_due(self) -> bool:
        """Record an equity snapshot unless one was taken in the last minute; True when recorded.

        The app calls this on a timer; changes record their own snapshot whatever the timer does.
        """
        self.open()
        with self._store.transaction():
            now = self._clock.now_ms()
            last = self._store.last_equity_time(self.name)
            if last is not None and now - last < SNAPSHOT_EVERY_MS:
                return False
            st = self._book(None)
            ms = st.margin(self._tiers(st))
            self._store.record_equity(self.name, now, ms.equity, ms.wallet)
        return True

    def equity_history(self, since: int | None = None) -> list[tuple[int, float]]:
        """(time, equity) snapshots, oldest first; ``since``: only those at or after it."""
        self.open()
        return self._store.load_equity(self.name, since)

    # --- risk and plan ----------------------------------------------------------------------------

    def set_risk_pct(self, fraction: float) -> None:
        """Risk per trade as a FRACTION of equity, in (0, 1]; persisted, overrides the config."""
        self._plan.set_risk_pct(fraction)

    def set_split(self, neutral_fraction: float, directional_fraction: float) -> None:
        """The plan's split as FRACTIONS summing to 1; persisted, overrides the config."""
        self._plan.set_split(neutral_fraction, directional_fraction)
