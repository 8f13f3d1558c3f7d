"""The ``[alerts]`` settings: notification URLs are secrets (masked in ``perptui config``, never echoed in
an error), rules are checked with the key named, ``config --init`` documents the section."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.config.loader import load_settings
from perptui.config.template import default_config_text
from perptui.config.urls import mask_target
from perptui.domain.errors import ConfigError

SECRET = "tok3n-s3cret"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "perptui.toml"
    path.write_text("")
    path.chmod(0o600)
    monkeypatch.setenv("PERPTUI_CONFIG", str(path))
    return path


def test_defaults_are_on_and_send_nowhere(config_file: Path) -> None:
    alerts = load_settings().alerts
    assert alerts.enabled and alerts.notify == [] and alerts.cooldown_s == 900
    rules = {r.id: r for r in alerts.effective_rules()}
    assert set(rules) == {"liq-distance", "no-stop", "breaker", "stale-data"}
    assert not any(r.muted for r in rules.values())


def test_notify_urls_are_masked_in_config_output(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text(
        f'[alerts]\nnotify = ["ntfy://ntfy.sh/{SECRET}"]\nnotify_critical = ["tgram://{SECRET}/42"]\n'
    )
    monkeypatch.setenv("PERPTUI_ALERTS__NOTIFY_INFO", f"json://user:{SECRET}@127.0.0.1:8080/hook")
    settings = load_settings()
    assert settings.alerts.notify[0].get_secret_value() == f"ntfy://ntfy.sh/{SECRET}"
    assert len(settings.alerts.notify_info) == 1
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    alerts = json.loads(out)["settings"]["alerts"]
    assert alerts["notify"] == ["ntfy://***"] and alerts["notify_critical"] == ["tgram://***"]
    assert alerts["notify_info"] == ["json://***"]
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "ntfy://***" in out


def test_notify_urls_as_a_json_list_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_ALERTS__NOTIFY", '["ntfy://a/b", "discord://c/d"]')
    assert [u.get_secret_value() for u in load_settings().alerts.notify] == ["ntfy://a/b", "discord://c/d"]


@pytest.mark.parametrize(
    "value",
    [f'["{SECRET}"]', f'["ntfy://{SECRET}", 5]', f'"ntfy://{SECRET}\\u0001"', f'["ntfy://{SECRET}", []]'],
)
def test_a_bad_notify_url_is_refused_without_echoing_it(config_file: Path, value: str) -> None:
    config_file.write_text(f"[alerts]\nnotify = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "alerts.notify" in message and str(config_file) in message
    assert SECRET not in message and "\n" not in message


def test_a_readable_config_file_with_notify_urls_is_warned_about(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text(f'[alerts]\nnotify = ["ntfy://ntfy.sh/{SECRET}"]\n')
    config_file.chmod(0o644)
    assert main(["config"]) == 0
    err = capsys.readouterr().err
    assert "alerts.notify" in err and "chmod 600" in err and SECRET not in err


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('rules = [{ id = "x", kind = "funding_z" }]', "rule 1 ('x'): threshold: a funding_z rule needs one"),
        (
            'rules = [{ id = "x", kind = "no_stop" }, { id = "x", kind = "breaker" }]',
            "rule 2 ('x'): id: another",
        ),
        ('rules = [{ id = "x", kind = "nope" }]', "rule 1 ('x'): kind: 'nope'"),
        ('rules = [{ id = "x", kind = "no_stop", colour = "red" }]', "unknown key 'colour'"),
        ('rules = [{ kind = "no_stop" }]', "rule 1: id: every rule needs one"),
        ('rules = [{ id = "liq-distance", threshold = 500 }]', "rule 1 ('liq-distance'): threshold: 500.0"),
        ('quiet_hours = "7-8"', "alerts.quiet_hours"),
        ("cooldown_s = -5", "alerts.cooldown_s"),
        ("retries = 99", "alerts.retries"),
    ],
)
def test_bad_alert_settings_are_refused_naming_the_key(config_file: Path, table: str, says: str) -> None:
    config_file.write_text(f"[alerts]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert says in message and str(config_file) in message and "\n" not in message
    if "rule" in says:
        assert message.startswith("bad value for alerts.rules in config file")


def test_config_rules_change_defaults_and_add_rules(config_file: Path) -> None:
    config_file.write_text(
        '[alerts]\ncooldown_s = 60\nquiet_hours = "23:00-07:00"\n'
        '[[alerts.rules]]\nid = "no-stop"\nmuted = true\n'
        '[[alerts.rules]]\nid = "btc-60k"\nkind = "price_below"\nthreshold = 60000\nsymbol = "BTC"\n'
    )
    rules = {r.id: r for r in load_settings().alerts.effective_rules()}
    assert rules["no-stop"].muted
    assert rules["btc-60k"].threshold == 60000 and rules["btc-60k"].cooldown_s == 60
    assert rules["breaker"].quiet_hours == (23 * 60, 7 * 60)


def test_config_init_documents_the_alerts_section() -> None:
    text = default_config_text()
    section = text[text.index("[alerts]") :]
    for key in ("enabled", "notify", "notify_critical", "desktop", "rules", "quiet_hours", "cooldown_s"):
        assert f"# {key} =" in section
    tomllib.loads(text)
    # the rules example, uncommented, is a valid config
    start = section.index("# rules = [")
    block = section[start : section.index("# ]", start) + 3]
    example = tomllib.loads("\n".join(line[2:] for line in block.splitlines()))
    from perptui.config.settings import AlertsSettings

    assert len(AlertsSettings(**example).effective_rules()) == 6


@pytest.mark.parametrize(
    ("url", "shown"),
    [("ntfy://ntfy.sh/topic", "ntfy://***"), ("tgram://bot:tok@x/1", "tgram://***"), ("garbage", "***")],
)
def test_mask_target_keeps_only_the_scheme(url: str, shown: str) -> None:
    assert mask_target(url) == shown
