"""``AlertEngine``: the rules stepped on each observation, their state and history kept in the cache, and
what fired delivered. The app's risk monitor and ``perptui watch`` run it the same way.

The state is read and written in one transaction per step, so two processes on one cache (the app and
``watch``) never notify the same start twice: the first records the key active, the second then sees it
active and stays silent; each delivers only what it recorded. A restart reads the same state: no
duplicate. Delivery runs after the transaction, each target bounded by its own timeout (``notify``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perptui.domain.alerts.state import Alert, step
from perptui.services.alerts import store as alert_store

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.domain.alerts.observe import Observation
    from perptui.domain.alerts.rules import AlertRule
    from perptui.services.alerts.notify import Delivery, Notifier
    from perptui.services.store import Store


@dataclass(frozen=True, slots=True)
class Recorded:
    """An alert as kept in the history (``entry_id``), and what its targets answered (empty while held,
    or without targets)."""

    entry_id: int
    alert: Alert
    deliveries: tuple[Delivery, ...] = ()


class AlertEngine:
    def __init__(self, settings: Settings, store: Store, notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.store = store
        self.notifier = notifier

    def rules(self) -> list[AlertRule]:
        """The rules in force: the defaults, the config's and those added in the app or the CLI."""
        with self.store.reading() as conn:
            return alert_store.rules_in_force(conn, self.settings.alerts)

    def evaluate(self, obs: Observation) -> list[tuple[int, Alert]]:
        """Step the rules on ``obs``; record the new states and the alerts in one transaction. Blocking
        (SQLite): call it from a worker thread. Returns (history id, alert) of each alert, held ones
        included."""
        if not self.settings.alerts.enabled:
            return []
        with self.store.writing() as conn:
            rules = alert_store.rules_in_force(conn, self.settings.alerts)
            before = alert_store.load_states(conn)
            states, alerts = step(rules, obs, before)
            alert_store.save_states(conn, states, before=before)
            ids = alert_store.record_all(conn, alerts)
        return list(zip(ids, alerts, strict=True))

    async def deliver(
        self, recorded: Sequence[tuple[int, Alert]], on_delivery: Callable[[Delivery], None] | None = None
    ) -> list[Recorded]:
        """Send every alert not held to its severity's targets, all side by side (a slow or dead target
        delays only itself, never another alert or target) and keep what each answered in the history."""

        async def one(entry_id: int, alert: Alert) -> Recorded:
            notifier = self.notifier
            if alert.held or notifier is None or not notifier.targets(alert.notification.severity):
                return Recorded(entry_id, alert)
            deliveries = await notifier.send(alert.notification, on_delivery=on_delivery)
            await asyncio.to_thread(self._keep, entry_id, deliveries)
            return Recorded(entry_id, alert, tuple(deliveries))

        return list(await asyncio.gather(*(one(i, a) for i, a in recorded)))

    def _keep(self, entry_id: int, deliveries: Sequence[Delivery]) -> None:
        with self.store.writing() as conn:
            alert_store.set_delivered(conn, entry_id, [d.as_dict() for d in deliveries])

    async def run(self, obs: Observation) -> list[Recorded]:
        """``evaluate`` (in a thread) then ``deliver``."""
        recorded = await asyncio.to_thread(self.evaluate, obs)
        return await self.deliver(recorded)
