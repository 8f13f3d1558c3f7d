"""How the sizing pane draws: the heading (market, mark, funding, live or cached), the form's units and
defaults, the results, the verdict and the ladder. ``recompute`` runs the pure calculator on the UI thread
(it takes microseconds) and shows either a result or why there is none."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.widgets import Static

from perptui.domain.errors import UsageError
from perptui.presentation import numbers as fmt
from perptui.presentation.numbers import price_input
from perptui.ui.panes.sizing_actions import SizingActions
from perptui.ui.panes.sizing_model import (
    Context,
    compute,
    field_of,
    is_missing,
    message_of,
    typed_price_warnings,
)
from perptui.ui.panes.sizing_results import PositionCard, TargetsCard, Verdict
from perptui.ui.widgets.price_ladder import Level, PriceLadder

if TYPE_CHECKING:
    from perptui.domain.account import AccountSummary
    from perptui.domain.sizing import SizingResult
    from perptui.services.sizing_inputs import AtrReading, MarketSnapshot

KEYS_HINT = "e stop · tab · ↑↓ nudge · esc done"


class SizingView(SizingActions):
    snapshot: MarketSnapshot | None
    summary: AccountSummary | None
    notes: dict[str, str]
    atr: tuple[str, AtrReading | None, str] | None

    @property
    def private(self) -> bool:
        return bool(getattr(self.app, "privacy", False))

    def context(self) -> Context | None:
        m = self.market
        if m is None:
            return None
        snap = (
            self.snapshot if self.snapshot is not None and self.snapshot.market.symbol == m.symbol else None
        )
        s, settings = self.summary, self.ctx.settings
        atr = self.atr[1] if self.atr is not None and self.atr[0] == m.symbol else None
        return Context(
            market=m,
            mark=snap.mark if snap else None,
            funding_rate=snap.funding_rate if snap else None,
            funding_interval_hours=snap.funding_interval_hours if snap else m.funding_interval_hours,
            equity=s.equity if s else None,
            free_margin=s.free_margin if s else None,
            other_maintenance=s.maintenance_margin if s else None,
            account_risk=s.risk_pct if s else settings.risk.risk_pct / 100,
            atr=atr.value if atr else None,
            slippage_bps=settings.sizing.slippage_bps,
            max_risk_fraction=settings.risk.max_risk_pct / 100,
            funding_warn_apr=settings.sizing.funding_warn_apr_pct / 100,
        )

    def recompute(self) -> None:
        self.cancel_pending("recompute")
        ctx = self.context()
        if ctx is None:
            self._show_form(ctx)
            self.query_one(Verdict).problem(self.notes["market"] or "loading the markets…", False, hint=True)
            return
        try:
            result = compute(self.form, ctx)
        except UsageError as exc:  # a SizingError naming the field
            self.result, self.error = None, exc
            self._show_form(ctx)
            self._no_result(exc, hint=is_missing(exc), prices=typed_price_warnings(self.form, ctx))
        else:
            self.result, self.error = result, None
            self._show_form(ctx)
            self._show_result(result, ctx)

    def _no_result(self, exc: UsageError, *, hint: bool, prices: list[str]) -> None:
        self.form_widget.mark_error(None if hint else field_of(exc))
        private = self.private
        self.query_one(PositionCard).invalidate(private)
        self.query_one(TargetsCard).invalidate(private)
        message = message_of(exc, with_field=not hint)
        self.query_one(PriceLadder).clear("nothing to draw yet" if hint else "no valid trade to draw")
        self.query_one(Verdict).problem(message, private, hint=hint, prices=prices)

    def _show_result(self, r: SizingResult, ctx: Context) -> None:
        m, private = ctx.market, self.private
        self.form_widget.mark_error(None)
        self.query_one(PositionCard).show(r, m, private)
        self.query_one(TargetsCard).show(r, m, private)
        self.query_one(Verdict).show(r, m, private, prices=typed_price_warnings(self.form, ctx))
        levels = [Level("entry", "Entry", r.entry), Level("stop", "Stop", r.stop)]
        levels += [Level("target", f"TP{i}", tp.price) for i, tp in enumerate(r.take_profits, 1)]
        levels.append(Level("breakeven", "B/E", r.breakeven_price))
        if r.liquidation_price is not None:
            levels.append(Level("liquidation", "Liq.", r.liquidation_price))
        if ctx.mark is not None and abs(ctx.mark - r.entry) >= (m.price_tick or 0):
            levels.append(Level("mark", "Mark", ctx.mark))
        notes = []
        if r.never_liquidated:
            notes.append("Liq. none: margin covers 0")
        elif r.liquidation_price is None:
            notes.append("Liq. unknown")
        self.query_one(PriceLadder).show(levels, notes, lambda p: fmt.price(p, m.price_tick))

    def _show_form(self, ctx: Context | None) -> None:
        m = self.market
        currency = m.settle if m else "USDT"
        private = self.private
        s = self.summary
        account_risk = ctx.account_risk if ctx else self.ctx.settings.risk.risk_pct / 100
        if self.form.risk_mode == "pct":
            risk_default = f"{account_risk * 100:g} (account)"
        else:
            budget = s.equity * account_risk if s and s.equity is not None else None
            risk_default = f"{fmt.money(budget, private=private)} (account)"
        mark = ctx.mark if ctx else None
        self.form_widget.show(
            self.form,
            symbol=self.form.symbol,
            mark=price_input(mark, m.price_tick) if mark is not None and m else None,
            risk_default=risk_default,
            currency=currency,
        )
        account = self.notes["account"] or (
            f"equity {fmt.money(s.equity, currency, private=private)} · free "
            f"{fmt.money(s.free_margin, private=private)}"
            if s
            else "reading the account…"
        )
        self.form_widget.info(atr=self._stop_info(ctx), account=account, keys=KEYS_HINT)

    def _stop_info(self, ctx: Context | None) -> str:
        if ctx is None:
            return ""
        tick = ctx.market.price_tick
        r = self.result
        if self.form.stop_mode == "atr":
            s = self.ctx.settings.sizing
            name = f"ATR({s.atr_period}, {s.atr_timeframe})"
            if (
                self.atr is None
                or self.atr[0] != ctx.market.symbol
                or (self.atr[1] is None and not self.atr[2])
            ):
                return f"{name} loading…"
            if self.atr[1] is None or self.atr[1].value is None:
                return f"{name} unknown: {self.atr[2] or 'too few candles'}"
            text = f"{name} {fmt.price(self.atr[1].value, tick)}"
            return text + (f" → stop {fmt.price(r.stop, tick)}" if r else "")
        if r is None:
            return ""
        if self.form.stop_mode == "pct":
            return f"stop at {fmt.price(r.stop, tick)}"
        return f"stop {abs(r.entry - r.stop) / r.entry * 100:.2f}% from the entry"

    def show_heading(self) -> None:
        heading = self.query_one("#size-heading", Static)
        m, snap = self.market, self.snapshot
        if m is None:
            heading.update(self.notes["market"] or "loading the markets…")
            return
        parts = [m.symbol]
        if snap is None or snap.market.symbol != m.symbol:
            parts.append("reading the mark…")
        else:
            parts.append(f"mark {fmt.price(snap.mark, m.price_tick)}")
            if snap.funding_rate is not None:
                interval = f"{snap.funding_interval_hours:g}h" if snap.funding_interval_hours else "interval"
                parts.append(f"funding {snap.funding_rate * 100:+.4f}% per {interval}")
            if snap.next_funding_time:
                parts.append(f"next {time.strftime('%H:%M', time.gmtime(snap.next_funding_time / 1000))} UTC")
            if snap.cached:
                parts.append(f"CACHED, {fmt.age(self.ctx.clock.now_ms() - snap.as_of)} old")
        if self.notes["market"]:
            parts.append(self.notes["market"])
        heading.update(" · ".join(parts))
        heading.set_class(snap is not None and snap.cached, "-cached")
