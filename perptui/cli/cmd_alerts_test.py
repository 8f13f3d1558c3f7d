"""`perptui alerts test`: one test notification to every configured target, and what each answered.

Exit 0 when every target took it, 1 when any failed, 2 (one line) when no target is configured.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from perptui.domain.alerts.notification import Notification
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import iso_utc

from .context import settings_from_args
from .output import print_json, say

NO_TARGET = (
    'no notification target is configured: set [alerts] notify = ["ntfy://your-topic"] in the '
    "config file (or PERPTUI_ALERTS__NOTIFY), see the README's Alert delivery"
)


def trial_notification(now_ms: int) -> Notification:
    return Notification(
        key="test:*",
        rule_id="test",
        kind="fired",
        severity="info",
        title="perptui: test alert",
        body=f"A test from 'perptui alerts test' at {iso_utc(now_ms)}: alerts reach you here.",
        time=now_ms,
    )


def run(args: argparse.Namespace) -> int:
    from perptui.services.alerts.notify import Notifier, target_settings

    settings = settings_from_args(args)
    if not target_settings(settings):
        raise UsageError(NO_TARGET)
    notifier = Notifier.from_settings(settings)
    deliveries = asyncio.run(notifier.send_everywhere(trial_notification(int(time.time() * 1000))))
    failed = sum(not d.ok for d in deliveries)
    if args.json:
        print_json(
            {"sent": len(deliveries) - failed, "failed": failed, "targets": [d.as_dict() for d in deliveries]}
        )
    else:
        for d in deliveries:
            say(f"{'ok    ' if d.ok else 'FAILED'} {d.target}: {d.detail}")
        say(f"{len(deliveries) - failed} of {len(deliveries)} targets took the test notification")
    return 1 if failed else 0
