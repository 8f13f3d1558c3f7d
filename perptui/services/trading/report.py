"""What became of a ticket's orders, in words (``perptui order`` and the app's notification)."""

from __future__ import annotations

from perptui.services.trading.trader import PlaceOutcome, Sent


def sent_line(sent: Sent) -> str:
    """What became of one order, in words."""
    what = f"{sent.order.label} ({sent.order.client_id})"
    if sent.outcome == "ok":
        return (
            f"{what}: accepted"
            + (f", exchange id {sent.exchange_id}" if sent.exchange_id else "")
            + _fill(sent)
        )
    if sent.outcome == "found":
        return f"{what}: found on the exchange after a lost answer (not sent twice)" + _fill(sent)
    if sent.outcome == "rejected":
        return f"{what}: REJECTED: {sent.error}"
    if sent.outcome == "failed":
        return f"{what}: NOT PLACED: {sent.error}"
    return f"{what}: UNKNOWN: {sent.error}"


def _fill(sent: Sent) -> str:
    """What filled of an order that fills at once (the entry, a close): all of it, or part (the rest
    expired: the book ran out); nothing for a resting order."""
    filled, qty = sent.filled, sent.order.qty
    if not filled:
        return ""
    average = (sent.answer or {}).get("average")
    at = f" at {average:g}" if isinstance(average, int | float) else ""
    if filled < qty * (1 - 1e-9):
        return f", PARTLY filled: {filled:g} of {qty:g}{at} (the rest was not filled)"
    return f", filled {filled:g}{at}"


def outcome_lines(outcome: PlaceOutcome) -> list[str]:
    lines = [sent_line(outcome.entry), *(sent_line(s) for s in outcome.protective), *outcome.notes]
    if not outcome.entry.placed:
        lines.append("nothing else was sent: the entry is not on the exchange")
    return lines


def outcome_severity(outcome: PlaceOutcome) -> str:
    """information when every order is in, else error."""
    every = [outcome.entry, *outcome.protective]
    return "information" if all(s.placed for s in every) else "error"
