"""What became of a ticket's orders, in words (``perptui order``; the app shows the same)."""

from __future__ import annotations

from perptui.services.trading.trader import PlaceOutcome, Sent

_WHAT = {
    "ok": "accepted",
    "found": "accepted (its answer was lost; found on the exchange by its client id)",
    "rejected": "REFUSED",
    "failed": "NOT PLACED",
    "unknown": "UNKNOWN",
}


def sent_line(sent: Sent) -> str:
    o = sent.order
    line = f"{o.label:<6} {_WHAT[sent.outcome]}"
    if sent.exchange_id:
        line += f", order {sent.exchange_id}"
    status = (sent.answer or {}).get("status")
    if status:
        line += f", {status}"
    if sent.filled:
        line += f", filled {sent.filled:g}"
        average = (sent.answer or {}).get("average")
        if average:
            line += f" at {average:g}"
    if sent.error:
        line += f": {sent.error}"
    return line


def outcome_lines(outcome: PlaceOutcome) -> list[str]:
    lines = [sent_line(outcome.entry)]
    lines += [sent_line(s) for s in outcome.protective]
    if not outcome.entry.placed:
        lines.append("nothing else was sent")
    elif outcome.plan.stop.attached and outcome.entry.placed:
        lines.append(f"stop      attached to the entry at {outcome.plan.stop.trigger:g}")
    if outcome.naked:
        lines.append(f"!! {outcome.plan.symbol} HAS NO STOP on the exchange")
    return lines
