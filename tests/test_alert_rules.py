"""Alert rules: each kind fires on its condition and clears when it stops (worked examples), unknown
values neither fire nor clear, bad rules are refused naming the key, and the merge of defaults, config
and user rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

from perptui.domain.alerts.evaluate import conditions, symbol_matches
from perptui.domain.alerts.observe import (
    CarryObs,
    FillObs,
    FundingObs,
    Observation,
    PositionObs,
    PriceObs,
)
from perptui.domain.alerts.rules import (
    DEFAULT_RULES,
    KINDS,
    AlertRule,
    RuleKind,
    check_rule,
    in_quiet_hours,
    merge_rules,
    parse_quiet_hours,
    rule_from_fields,
    rule_to_fields,
)
from perptui.domain.alerts.state import KeyState, step

BTC = "BTC/USDT:USDT"
T0 = 1_750_000_000_000  # a Sunday afternoon, UTC


def pos(**kw: object) -> PositionObs:
    return PositionObs(**{"symbol": BTC, "side": "long", **kw})  # type: ignore[arg-type]


def obs(now: int = T0, **kw: object) -> Observation:
    return Observation(now=now, **kw)  # type: ignore[arg-type]


#: Per kind: the rule's threshold, an observation where it holds, one where it does not, one unknown.
CASES: dict[RuleKind, tuple[float | None, Observation, Observation, Observation]] = {
    "liq_distance_pct": (
        5,
        obs(positions=(pos(liq_distance_pct=4.2),)),
        obs(positions=(pos(liq_distance_pct=7.0),)),
        obs(positions=(pos(liq_distance_pct=None),)),
    ),
    "liq_distance_sigma": (
        2,
        obs(positions=(pos(liq_distance_sigma=1.5),)),
        obs(positions=(pos(liq_distance_sigma=3.0),)),
        obs(positions=(pos(),)),
    ),
    "margin_ratio": (
        50,
        obs(positions=(pos(margin_ratio=0.6),)),
        obs(positions=(pos(margin_ratio=0.3),)),
        obs(positions=(pos(margin_ratio=float("nan")),)),
    ),
    "no_stop": (
        None,
        obs(positions=(pos(has_stop=False),)),
        obs(positions=(pos(has_stop=True),)),
        obs(positions=(pos(),)),
    ),
    "price_above": (
        70_000,
        obs(prices=(PriceObs(BTC, 71_000),)),
        obs(prices=(PriceObs(BTC, 69_000),)),
        obs(prices=(PriceObs(BTC, None),)),
    ),
    "price_below": (
        60_000,
        obs(positions=(pos(mark=59_000),)),
        obs(positions=(pos(mark=61_000),)),
        obs(positions=(pos(),)),
    ),
    "daily_loss_pct": (3, obs(daily_loss_pct=3.5), obs(daily_loss_pct=1.0), obs()),
    "drawdown_pct": (10, obs(drawdown_pct=12.0), obs(drawdown_pct=2.0), obs()),
    "breaker": (None, obs(breaker_tripped=True), obs(breaker_tripped=False), obs()),
    "funding_flip": (
        None,
        obs(funding=(FundingObs(BTC, rate=-0.0001, previous_rate=0.0001),)),
        obs(funding=(FundingObs(BTC, rate=0.0002, previous_rate=0.0001),)),
        obs(funding=(FundingObs(BTC, rate=-0.0001),)),
    ),
    "funding_z": (
        2,
        obs(funding=(FundingObs(BTC, z=-2.5),)),
        obs(funding=(FundingObs(BTC, z=1.0),)),
        obs(funding=(FundingObs(BTC),)),
    ),
    "funding_apr": (
        50,
        obs(funding=(FundingObs(BTC, apr_pct=80.0),)),
        obs(funding=(FundingObs(BTC, apr_pct=-10.0),)),
        obs(funding=(FundingObs(BTC),)),
    ),
    "carry_predicted_against": (
        None,
        obs(carries=(CarryObs(BTC, predicted_rate=-0.0001),)),
        obs(carries=(CarryObs(BTC, predicted_rate=0.0001),)),
        obs(carries=(CarryObs(BTC),)),
    ),
    "carry_below_breakeven": (
        None,
        obs(carries=(CarryObs(BTC, net_apr_pct=2.0, breakeven_apr_pct=4.0),)),
        obs(carries=(CarryObs(BTC, net_apr_pct=9.0, breakeven_apr_pct=4.0),)),
        obs(carries=(CarryObs(BTC, net_apr_pct=9.0),)),
    ),
    "stale_data_min": (10, obs(data_age_ms=11 * 60_000), obs(data_age_ms=60_000), obs()),
    "unreachable": (None, obs(reachable=False), obs(reachable=True), obs(reachable=False)),
}


def rule_of(kind: RuleKind, threshold: float | None) -> AlertRule:
    symbol = BTC if KINDS[kind].needs_symbol else None
    return check_rule(AlertRule("r", kind, threshold=threshold, symbol=symbol, cooldown_s=0))


def test_every_kind_has_a_worked_example() -> None:
    assert set(CASES) | {"stop_filled", "take_profit_filled"} == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_fires_once_on_its_condition_and_clears_once(kind: RuleKind) -> None:
    threshold, holds, clear, unknown = CASES[kind]
    rule = rule_of(kind, threshold)
    states: dict[str, KeyState] = {}
    timeline = [clear, holds, holds, unknown, holds, clear, clear, unknown, holds]
    kinds = []
    for i, o in enumerate(timeline):
        if kind == "unreachable" and o is unknown:
            continue  # reachable is never unknown
        states, alerts = step([rule], replace(o, now=T0 + i * 60_000), states)
        kinds.append([a.notification.kind for a in alerts])
    fired = [k for k in kinds if k]
    expected = [["fired"], ["fired"]] if not KINDS[kind].clears else [["fired"], ["cleared"], ["fired"]]
    assert fired == expected, kinds
    assert not step([rule], unknown, {})[1] or kind == "unreachable"


def test_unknown_values_give_no_condition() -> None:
    for kind, (threshold, _, _, unknown) in CASES.items():
        if kind != "unreachable":
            assert conditions(rule_of(kind, threshold), unknown) == [], kind


def test_fills_fire_each_time_and_never_clear() -> None:
    rule = check_rule(AlertRule("sl", "stop_filled", cooldown_s=900))
    fill = FillObs(BTC, "stop", 60_000.0, 0.01, T0)
    states, alerts = step([rule], obs(fills=(fill,)), {})
    assert [a.notification.title for a in alerts] == [f"{BTC} stop-loss filled: 0.01 at 60,000.00"]
    states, alerts = step([rule], obs(T0 + 1000), states)
    assert alerts == ()
    # a second stop on the same market within the cool-down is another event: it fires
    _, alerts = step([rule], obs(T0 + 2000, fills=(replace(fill, time=T0 + 2000),)), states)
    assert len(alerts) == 1
    tp = check_rule(AlertRule("tp", "take_profit_filled"))
    assert step([tp], obs(fills=(fill,)), {})[1] == ()  # a stop is not a take-profit


def test_a_closed_position_clears_its_condition_only_when_the_exchange_was_read() -> None:
    rule = check_rule(AlertRule("liq", "liq_distance_pct", threshold=5))
    states, alerts = step([rule], obs(positions=(pos(liq_distance_pct=3.0),)), {})
    assert len(alerts) == 1
    blind, alerts = step([rule], obs(T0 + 1, reachable=False), states)
    assert alerts == () and blind == states
    _, alerts = step([rule], obs(T0 + 2), states)
    assert [(a.notification.kind, a.notification.title) for a in alerts] == [
        ("cleared", f"cleared: {BTC} closed")
    ]


def test_a_rule_on_one_market_ignores_the_others() -> None:
    rule = check_rule(AlertRule("btc", "liq_distance_pct", threshold=5, symbol="BTC"))
    eth = PositionObs("ETH/USDT:USDT", "short", liq_distance_pct=1.0)
    got = conditions(rule, obs(positions=(eth, pos(liq_distance_pct=2.0))))
    assert [(c.key, c.active) for c in got] == [(f"btc:{BTC}", True)]


@pytest.mark.parametrize(
    ("wanted", "symbol", "matches"),
    [
        (None, BTC, True),
        ("BTC", BTC, True),
        ("btcusdt", BTC, True),
        ("BTC/USDT", BTC, True),
        (BTC, BTC, True),
        ("ETH", BTC, False),
        ("BTC/USDC:USDC", BTC, False),
    ],
)
def test_symbol_matching(wanted: str | None, symbol: str, matches: bool) -> None:
    assert symbol_matches(wanted, symbol) is matches


def test_messages_carry_the_figures() -> None:
    rule = rule_of("liq_distance_pct", 5)
    (cond,) = conditions(rule, CASES["liq_distance_pct"][1])
    assert cond.message == f"{BTC} long 4.20% from liquidation" and cond.value == 4.2
    _, (alert,) = step([rule], CASES["liq_distance_pct"][1], {})
    assert alert.notification.body == "liquidation distance below 5% (warning; rule r)"
    assert alert.notification.as_dict()["event"] == "alert"


# --- checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": "no_stop"}, "id: every rule needs one"),
        ({"id": "Bad Id", "kind": "no_stop"}, "id: 'Bad Id' is not a rule id"),
        ({"id": "a:b", "kind": "no_stop"}, "id:"),
        ({"id": "x"}, "kind: rule 'x' needs one"),
        ({"id": "x", "kind": "nope"}, "kind: 'nope' is not a kind of rule"),
        ({"id": "x", "kind": "liq_distance_pct"}, "threshold: a liq_distance_pct rule needs one"),
        ({"id": "x", "kind": "liq_distance_pct", "threshold": 0}, "threshold: 0.0 is outside"),
        (
            {"id": "x", "kind": "liq_distance_pct", "threshold": 150},
            "threshold: 150.0 is outside what a liq_distance_pct rule accepts: above 0 and up to 100%",
        ),
        ({"id": "x", "kind": "liq_distance_pct", "threshold": float("nan")}, "threshold: nan"),
        ({"id": "x", "kind": "liq_distance_pct", "threshold": "5"}, "threshold: '5' is not a number"),
        ({"id": "x", "kind": "no_stop", "threshold": 5}, "threshold: a no_stop rule takes none"),
        ({"id": "x", "kind": "price_above", "threshold": 5}, "symbol: a price_above rule needs a market"),
        ({"id": "x", "kind": "no_stop", "severity": "loud"}, "severity: 'loud' is not one of"),
        ({"id": "x", "kind": "breaker", "symbol": "BTC"}, "symbol: a breaker rule watches the whole account"),
        (
            {"id": "x", "kind": "unreachable", "symbol": "BTC"},
            "symbol: a unreachable rule watches the exchange",
        ),
        ({"id": "x", "kind": "no_stop", "cooldown_s": -1}, "cooldown_s: -1 is outside"),
        ({"id": "x", "kind": "no_stop", "cooldown_s": 1.5}, "cooldown_s: 1.5 is not a whole number"),
        ({"id": "x", "kind": "no_stop", "quiet_hours": "25:00-07:00"}, "quiet_hours: '25:00-07:00'"),
        ({"id": "x", "kind": "no_stop", "quiet_hours": 5}, "quiet_hours: 5 is not text"),
        ({"id": "x", "kind": "no_stop", "muted": "yes"}, "muted: 'yes' is not true or false"),
        ({"id": "x", "kind": "no_stop", "colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(fields: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(").replace("[", r"\[")) as info:
        rule_from_fields(fields, source="config")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "span"), [("23:00-07:00", (1380, 420)), ("00:00-06:30", (0, 390)), (" 12:00-13:00 ", (720, 780))]
)
def test_quiet_hours_read(text: str, span: tuple[int, int]) -> None:
    assert parse_quiet_hours(text) == span


@pytest.mark.parametrize(
    "text", ["", "23:00", "7:00-8:00", "24:00-01:00", "10:60-11:00", "08:00-08:00", "٢٣:00-07:00"]
)
def test_bad_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_quiet_hours(text)


def test_quiet_hours_wrap_midnight() -> None:
    night = parse_quiet_hours("23:00-07:00")
    day = 1_749_945_600_000  # 2025-06-15T00:00Z
    at = lambda h, m=0: day + (h * 60 + m) * 60_000  # noqa: E731
    assert in_quiet_hours(night, at(23)) and in_quiet_hours(night, at(3)) and in_quiet_hours(night, at(6, 59))
    assert not in_quiet_hours(night, at(7)) and not in_quiet_hours(night, at(22, 59))
    assert not in_quiet_hours(None, at(3))


def test_rule_fields_round_trip() -> None:
    rule = rule_from_fields(
        {"id": "btc-60k", "kind": "price_below", "threshold": 60000, "symbol": "BTC", "severity": "critical",
         "cooldown_s": 60, "quiet_hours": "22:00-06:00", "muted": True}, source="user",
    )  # fmt: skip
    assert rule_from_fields(rule_to_fields(rule), source="user") == rule


# --- the merge --------------------------------------------------------------------------------------


def test_defaults_are_on_with_sensible_thresholds() -> None:
    rules = {r.id: r for r in merge_rules([], [])}
    assert set(rules) == {"liq-distance", "no-stop", "breaker", "stale-data"}
    assert not any(r.muted for r in rules.values())
    assert rules["liq-distance"].threshold == 5 and rules["stale-data"].threshold == 10
    assert rules["breaker"].severity == "critical"
    assert all(r.source == "config" for r in rules.values())


def test_config_rules_change_defaults_and_add_their_own() -> None:
    config = [
        {"id": "no-stop", "muted": True},
        {"id": "liq-distance", "threshold": 3, "severity": "critical"},
        {"id": "dd", "kind": "drawdown_pct", "threshold": 8},
    ]
    rules = {r.id: r for r in merge_rules(config, [], cooldown_s=300, quiet_hours=(0, 360))}
    assert rules["no-stop"].muted and rules["no-stop"].kind == "no_stop"
    assert rules["liq-distance"].threshold == 3 and rules["liq-distance"].severity == "critical"
    assert rules["dd"].cooldown_s == 300 and rules["dd"].quiet_hours == (0, 360)
    assert rules["breaker"].cooldown_s == 300  # the [alerts] defaults apply to the defaults too


def test_user_entries_add_rules_and_mute_config_ones() -> None:
    user = [
        {"id": "breaker", "muted": True},
        {"id": "btc-60k", "kind": "price_below", "threshold": 60000, "symbol": "BTC"},
        {"id": "gone", "muted": True},  # the mute of a rule the config no longer has: ignored
    ]
    rules = {r.id: r for r in merge_rules([], user)}
    assert "gone" not in rules
    with pytest.raises(ValueError, match=r"^stored rule \('bad'\): threshold"):
        merge_rules([], [{"id": "bad", "kind": "funding_z"}])
    assert rules["breaker"].muted and rules["breaker"].source == "config"
    assert rules["btc-60k"].source == "user"


def test_a_bad_config_rule_is_named() -> None:
    with pytest.raises(ValueError, match=r"^rule 2 \('x'\): threshold"):
        merge_rules([{"id": "no-stop", "muted": True}, {"id": "x", "kind": "funding_z"}], [])


def test_default_rules_pass_their_own_checks() -> None:
    for rule in DEFAULT_RULES:
        assert check_rule(rule) is rule
