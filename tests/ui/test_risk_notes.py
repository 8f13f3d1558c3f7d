"""What a risk poll tells the trader on any pane: the paper engine's events (a stop fill rings the bell,
funding beyond a few settlements is summed in one note, the start-up catch-up says so) as notifications."""

from __future__ import annotations

from perptui.domain.paper import FundingPayment
from perptui.services.paper.events import PaperEvent
from perptui.ui.panes.risk.notes import FUNDING_NOTES, event_notes

BTC = "BTCDEMO/USDT:USDT"


def funding(amount: float, i: int) -> PaperEvent:
    payment = FundingPayment("demo", BTC, i, "long", 0.1, 80_000.0, 0.0001, amount)
    return PaperEvent(i, "funding", BTC, f"funding {amount:+.4f} on {BTC}", funding=payment)


def test_a_stop_fill_is_loud_and_a_few_funding_settlements_are_told_one_by_one() -> None:
    stop = PaperEvent(0, "stop", BTC, f"stop filled on {BTC}")
    events = (stop, *(funding(-0.5, i) for i in range(FUNDING_NOTES)))
    notes = event_notes(events, caught_up=False)
    assert [n.message for n in notes] == [e.message for e in events]
    assert notes[0].loud and notes[0].severity == "warning"
    assert not any(n.loud for n in notes[1:]) and all(n.title == "paper" for n in notes)


def test_many_funding_settlements_are_summed_in_one_note_after_a_catch_up() -> None:
    events = tuple(funding(-0.25, i) for i in range(FUNDING_NOTES + 1))
    [note] = event_notes(events, caught_up=True)
    n = FUNDING_NOTES + 1
    assert note.message == f"while the app was closed: {n} funding settlements, {-0.25 * n:+,.4f} in all"
    assert not note.loud
