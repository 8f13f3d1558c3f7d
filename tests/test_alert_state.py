"""The alert state machine's promises, as properties over random sequences of observations: a
notification once when a condition starts and once when it clears, never on a poll where nothing
changed; unknown values change nothing; the cool-down holds; quiet hours hold back all but critical;
muted rules never notify. Then worked examples of each."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from perptui.domain.alerts.observe import Observation, PositionObs
from perptui.domain.alerts.rules import AlertRule, Severity, check_rule, in_quiet_hours
from perptui.domain.alerts.state import Alert, KeyState, step

SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT")
T0 = 1_749_945_600_000  # 2025-06-15T00:00Z
MIN = 60_000

#: One poll: minutes since the last, and per market its distance to liquidation (None = unknown).
polls = st.lists(
    st.tuples(
        st.integers(1, 180),
        st.tuples(*(st.sampled_from([None, 2.0, 4.9, 5.0, 8.0]) for _ in SYMBOLS)),
    ),
    min_size=1,
    max_size=40,
)
spans = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 1439), st.integers(0, 1439)).filter(lambda s: s[0] != s[1]),
)


def rule(**kw: object) -> AlertRule:
    return check_rule(replace(AlertRule("liq", "liq_distance_pct", threshold=5.0, cooldown_s=0), **kw))  # type: ignore[arg-type]


def run(r: AlertRule, sequence: list[tuple[int, tuple[float | None, ...]]]):
    """Drive ``step``; per poll its time, the known active keys and the alerts."""
    states: dict[str, KeyState] = {}
    now = T0
    out = []
    for minutes, distances in sequence:
        now += minutes * MIN
        positions = tuple(
            PositionObs(s, "long", liq_distance_pct=d) for s, d in zip(SYMBOLS, distances, strict=True)
        )
        states, alerts = step([r], Observation(now=now, positions=positions), states)
        out.append((now, distances, alerts))
    return out


def by_key(history) -> dict[str, list[tuple[int, Alert]]]:
    keys: dict[str, list[tuple[int, Alert]]] = {}
    for now, _, alerts in history:
        for a in alerts:
            keys.setdefault(a.notification.key, []).append((now, a))
    return keys


@settings(max_examples=300, deadline=None)
@given(sequence=polls)
def test_fires_once_per_start_and_clears_once_per_end(sequence) -> None:
    """With no cool-down, quiet hours or mute: exactly one fired per start of the known condition and
    one cleared per end; nothing while it holds, nothing on an unknown value."""
    history = run(rule(), sequence)
    for i, symbol in enumerate(SYMBOLS):
        active = False
        expected = []
        for now, distances, _ in history:
            d = distances[i]
            if d is None:
                continue
            if (d < 5.0) != active:
                active = d < 5.0
                expected.append((now, "fired" if active else "cleared"))
        got = [(now, a.notification.kind) for now, a in by_key(history).get(f"liq:{symbol}", [])]
        assert got == expected


@settings(max_examples=300, deadline=None)
@given(sequence=polls, cooldown=st.sampled_from([0, 300, 3600, 6 * 3600]), quiet=spans,
       severity=st.sampled_from(["info", "warning", "critical"]))  # fmt: skip
def test_cool_down_and_quiet_hours_hold(sequence, cooldown: int, quiet, severity: Severity) -> None:
    history = run(rule(cooldown_s=cooldown, quiet_hours=quiet, severity=severity), sequence)
    for alerts in by_key(history).values():
        kinds = [a.notification.kind for _, a in alerts]
        # fired and cleared alternate, starting with fired: never a clear without its fire
        assert kinds == ["fired", "cleared"] * (len(kinds) // 2) + ["fired"] * (len(kinds) % 2)
        fires = [now for now, a in alerts if a.notification.kind == "fired"]
        assert all(b - a >= cooldown * 1000 for a, b in itertools.pairwise(fires))
        for now, a in alerts:
            assert a.held == (severity != "critical" and in_quiet_hours(quiet, now))
            assert a.notification.time == now and a.notification.severity == severity


@settings(max_examples=200, deadline=None)
@given(sequence=polls, cooldown=st.sampled_from([0, 3600]))
def test_notifications_only_at_a_change_of_the_known_condition(sequence, cooldown: int) -> None:
    """Whatever the cool-down, an alert comes only on a poll where its key's known condition changed."""
    history = run(rule(cooldown_s=cooldown), sequence)
    last: dict[int, bool] = {}
    for _, distances, alerts in history:
        changed = set()
        for i, d in enumerate(distances):
            if d is not None:
                if (d < 5.0) != last.get(i, False):
                    changed.add(f"liq:{SYMBOLS[i]}")
                last[i] = d < 5.0
        assert {a.notification.key for a in alerts} <= changed


@settings(max_examples=100, deadline=None)
@given(sequence=polls)
def test_muted_rules_never_notify(sequence) -> None:
    assert all(alerts == () for _, _, alerts in run(rule(muted=True), sequence))


@settings(max_examples=100, deadline=None)
@given(sequence=polls, cut=st.integers(0, 40))
def test_a_restart_from_the_stored_states_notifies_nothing_again(sequence, cut: int) -> None:
    """Stepping on from states saved at any poll gives the alerts the uninterrupted run gives."""
    r = rule(cooldown_s=900)
    whole = [alerts for _, _, alerts in run(r, sequence)]
    states: dict[str, KeyState] = {}
    now = T0
    resumed = []
    for i, (minutes, distances) in enumerate(sequence):
        if i == cut:
            states = {k: KeyState(v.active, v.since, v.last_sent) for k, v in states.items()}  # "reloaded"
        now += minutes * MIN
        positions = tuple(
            PositionObs(s, "long", liq_distance_pct=d) for s, d in zip(SYMBOLS, distances, strict=True)
        )
        states, alerts = step([r], Observation(now=now, positions=positions), states)
        resumed.append(alerts)
    assert resumed == whole


# --- worked examples -------------------------------------------------------------------------------


def at(minutes: int, distance: float | None) -> Observation:
    return Observation(
        now=T0 + minutes * MIN, positions=(PositionObs(SYMBOLS[0], "long", liq_distance_pct=distance),)
    )


def drive(r: AlertRule, polls_: list[Observation]) -> list[tuple[int, str, bool]]:
    states: dict[str, KeyState] = {}
    out = []
    for o in polls_:
        states, alerts = step([r], o, states)
        out += [((o.now - T0) // MIN, a.notification.kind, a.held) for a in alerts]
    return out


def test_a_condition_that_returns_within_the_cool_down_does_not_notify_again() -> None:
    r = rule(cooldown_s=900)
    got = drive(r, [at(0, 3), at(5, 8), at(10, 3), at(12, 8), at(20, 3), at(30, 8)])
    # fired at 0, cleared at 5; back at 10 (within 15 min of the fire at 0): silent, and so is its end
    # at 12; back at 20 (past the cool-down): fired, and its end cleared
    assert got == [(0, "fired", False), (5, "cleared", False), (20, "fired", False), (30, "cleared", False)]


def test_quiet_hours_hold_back_warnings_but_not_critical() -> None:
    night = (0, 6 * 60)  # 00:00-06:00 UTC; T0 is midnight
    warning = drive(rule(quiet_hours=night), [at(60, 3), at(120, 8), at(7 * 60, 3)])
    assert warning == [(60, "fired", True), (120, "cleared", True), (420, "fired", False)]
    critical = drive(rule(quiet_hours=night, severity="critical"), [at(60, 3)])
    assert critical == [(60, "fired", False)]


def test_unknown_values_between_neither_fire_nor_clear() -> None:
    assert drive(rule(), [at(0, 3), at(1, None), at(2, 3), at(3, None), at(4, 8)]) == [
        (0, "fired", False),
        (4, "cleared", False),
    ]


def test_a_muted_rule_unmuted_while_its_condition_holds_waits_for_the_next_start() -> None:
    states: dict[str, KeyState] = {}
    states, alerts = step([rule(muted=True)], at(0, 3), states)
    assert alerts == () and states[f"liq:{SYMBOLS[0]}"].active
    states, alerts = step([rule()], at(1, 8), states)
    assert alerts == ()  # its start was never notified, so neither is its end
    _, alerts = step([rule()], at(2, 3), states)
    assert [a.notification.kind for a in alerts] == ["fired"]
