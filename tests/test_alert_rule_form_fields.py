"""The rule form's texts -> a rule's keys (``perptui.ui.screens.alerts.fields``), without the app: each
bad value is named by the field that shows it."""

from __future__ import annotations

import pytest

from perptui.domain.alerts.rules import AlertRule
from perptui.presentation.alerts import duration, parse_duration
from perptui.ui.screens.alerts.fields import FieldError, FormValues, parse, values_of


def test_blank_cooldown_and_quiet_hours_follow_the_defaults_and_none_means_never_quiet() -> None:
    assert parse(FormValues("no_stop")) == {"kind": "no_stop", "severity": "warning"}
    fields = parse(FormValues("funding_z", threshold="2.5", market=" BTC ", cooldown="2h", quiet="none"))
    assert fields == {"kind": "funding_z", "threshold": 2.5, "symbol": "BTC", "severity": "warning",
                      "cooldown_s": 7_200, "quiet_hours": ""}  # fmt: skip
    assert parse(FormValues("liq_distance_pct", threshold="5%"), "mine")["id"] == "mine"


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        (FormValues("liq_distance_pct"), "threshold", "required"),
        (FormValues("liq_distance_pct", threshold="0"), "threshold", "outside"),
        (FormValues("price_below", threshold="100"), "market", "needs a market"),
        (FormValues("breaker", market="BTC"), "market", "leave it out"),
        (FormValues("no_stop", cooldown="soon"), "cooldown", "not a duration"),
        (FormValues("no_stop", cooldown="30d"), "cooldown", "a week"),
        (FormValues("no_stop", quiet="23-07"), "quiet", "HH:MM-HH:MM"),
    ],
)
def test_a_bad_value_is_named_by_its_field(values: FormValues, field: str, words: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse(values)
    assert caught.value.field == field and words in caught.value.message


def test_editing_shows_the_rule_and_leaves_the_defaults_blank() -> None:
    rule = AlertRule("x", "funding_apr", threshold=50.0, symbol="ETH", cooldown_s=900, quiet_hours=(60, 120))
    values = values_of(rule, default_cooldown_s=900, default_quiet=None)
    assert (values.threshold, values.market, values.cooldown, values.quiet) == (
        "50",
        "ETH",
        "",
        "01:00-02:00",
    )
    assert values_of(rule, default_cooldown_s=60, default_quiet=(60, 120)).cooldown == "15m"


@pytest.mark.parametrize("seconds", [0, 45, 60, 900, 3_600, 86_400, 90_061])
def test_a_duration_reads_back(seconds: int) -> None:
    assert parse_duration(duration(seconds)) == seconds
