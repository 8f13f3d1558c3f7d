"""The risk pane's poll and drawing. One poll after another (``ui.refresh_s``, 2 s by default), never
two at once. The poll keeps running while the pane is hidden, so stops, liquidations, funding and the
limits are watched whichever pane is shown (it only looks when nothing is held), but a hidden pane draws
nothing: the last report waits and is drawn when the pane is shown. New alerts and what the paper
engine did (a stop filled, a liquidation) are notified on any pane, with the terminal bell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from perptui.domain.timeframes import iso_utc
from perptui.ui.panes import risk_view
from perptui.ui.panes.base import Pane
from perptui.ui.panes.risk_columns import position_cells
from perptui.ui.risk_monitor import Levels, Polled, RiskMonitor
from perptui.ui.widgets.live_table import LiveTable
from perptui.ui.widgets.risk_chart import RiskChart

if TYPE_CHECKING:
    from perptui.services.paper.events import PaperEvent
    from perptui.services.risk import RiskReport

#: Event kinds that ring the bell: the position changed without the trader's key.
LOUD_EVENTS = {"liquidation", "stop", "take_profit"}
#: More funding settlements than this in one poll are summed in one notification.
FUNDING_NOTES = 3


class RiskSync(Pane):
    def __init__(self, ctx, *, id: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(ctx, id=id)
        self.monitor = RiskMonitor(ctx)
        self.report: RiskReport | None = None
        self.levels: dict[str, Levels] = {}
        self.error: str | None = None
        self.polling = False
        self.again = False  # poll again as soon as the running one ends (it may have skipped the report)
        self.charts_flipped = False  # v: the charts shown although folded for the height, or hidden

    table: LiveTable

    def on_mount(self) -> None:
        self.watch(self.app, "privacy", lambda _: self.redraw(), init=False)
        self.call_after_refresh(self.refresh_data)  # the start-up catch-up, after the first frame

    # --- the poll ----------------------------------------------------------------------------------

    def refresh_data(self, soon: bool = False) -> None:
        """Start a poll, unless one is running: then, with ``soon``, start the next as it ends."""
        if self.polling:
            self.again = self.again or soon
            return
        self.polling = True
        self.poll(self.active)

    def deactivated(self) -> None:
        self.active = False  # keep polling: the monitor watches from any pane

    def schedule_next(self, delay_s: float | None = None) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
        delay = self.ctx.settings.ui.refresh_s if delay_s is None else delay_s
        self._poll_timer = self.set_timer(delay, self.refresh_data, name="risk poll")

    @work(exclusive=True, group="risk-poll", exit_on_error=False, name="risk-poll")
    async def poll(self, visible: bool) -> Polled:
        return await self.monitor.poll(visible=visible)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "risk-poll" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.polling = False
        if event.state is WorkerState.SUCCESS:
            self.apply(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.error = f"could not read the risk: {event.worker.error}"
            self.redraw()
        if self.again:
            self.again = False
            self.refresh_data()
        else:
            self.schedule_next()

    def apply(self, polled: Polled) -> None:
        self.tell(polled.events, caught_up=polled.caught_up)
        self.error = polled.error
        if polled.report is not None:
            self.report, self.levels = polled.report, polled.levels
            for alert in polled.report.new_alerts:
                severity = "error" if alert.severity == "critical" else "warning"
                self.notify(alert.message, title="risk limit", severity=severity, timeout=10)
            if polled.report.new_alerts:
                self.app.bell()
        self.redraw()

    def tell(self, events: tuple[PaperEvent, ...], *, caught_up: bool) -> None:
        """Notify what the paper engine did; funding settlements beyond a few are summed."""
        if not events:
            return
        funding = [e for e in events if e.kind == "funding"]
        others = [e for e in events if e.kind != "funding"]
        prefix = "while the app was closed: " if caught_up else ""
        for e in others:
            loud = e.kind in LOUD_EVENTS
            self.notify(prefix + e.message, title="paper", severity="warning" if loud else "information")
        if len(funding) > FUNDING_NOTES:
            total = sum(e.funding.amount for e in funding if e.funding is not None)
            self.notify(f"{prefix}{len(funding)} funding settlements, {total:+,.4f} in all", title="paper")
        else:
            for e in funding:
                self.notify(prefix + e.message, title="paper")
        if any(e.kind in LOUD_EVENTS for e in others):
            self.app.bell()

    # --- drawing -----------------------------------------------------------------------------------

    def redraw(self) -> None:
        if not self.active or not self.is_mounted:
            return
        report, private = self.report, bool(getattr(self.app, "privacy", False))
        heading = self.query_one("#risk-heading", Static)
        if report is None:
            heading.update(self.error or "reading the account…")
            heading.set_class(self.error is not None, "-stale")
            return
        where = "paper account" if report.kind == "paper" else f"{report.account} account · read-only"
        state = "live" if report.live else "CACHED marks"
        text = f"Risk · {where} on {report.exchange} · {state} · {iso_utc(report.as_of)}"
        if self.error:
            text += f" · {self.error}"
        heading.update(text)
        heading.set_class(not report.live or self.error is not None, "-stale")
        rows = {
            p.symbol: position_cells(
                p,
                report.limits,
                stop=self.levels.get(p.symbol, Levels(None, None, None)).stop,
                leverage=self.levels.get(p.symbol, Levels(None, None, None)).leverage,
                private=private,
            )
            for p in report.positions
        }
        self.table.show(rows, list(rows))
        self.query_one("#risk-empty", Static).display = not rows
        compact = self.has_class("-short")
        portfolio = risk_view.portfolio(report, private=private, compact=compact)
        self.query_one("#risk-portfolio", Static).update(portfolio)
        self.query_one("#risk-limits", Static).update(risk_view.limits(report, compact=compact))
        self.query_one("#risk-alerts", Static).update(risk_view.alerts(report))
        self.query_one(RiskChart).show(report.equity_history, report.drawdown_history, private=private)
