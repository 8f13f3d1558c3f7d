"""`perptui alerts list|add|remove|mute|unmute|history`, in-process: the rules in force and where each
comes from, user rules kept in the cache, mutes of config rules, refusals in one line before the cache
is touched, and the history."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.domain.alerts.notification import Notification
from perptui.domain.alerts.state import Alert
from perptui.services.alerts import store as alerts_store
from perptui.services.store import Store
from tests.cli_helpers import run_error, run_json

T0 = 1_748_736_000_000  # 2025-06-01T00:00Z


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache.db"
    config = tmp_path / "perptui.toml"
    config.write_text("")
    config.chmod(0o600)
    monkeypatch.setenv("PERPTUI_DB", str(path))
    monkeypatch.setenv("PERPTUI_CONFIG", str(config))
    monkeypatch.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
    return path


def rules(capsys: pytest.CaptureFixture) -> dict[str, dict]:
    data = run_json(capsys, "alerts", "list", "--json")
    assert data["enabled"] is True
    return {r["id"]: r for r in data["rules"]}


def test_the_defaults_are_listed_on(db: Path, capsys: pytest.CaptureFixture) -> None:
    listed = rules(capsys)
    assert list(listed) == ["liq-distance", "no-stop", "breaker", "stale-data"]
    assert listed["liq-distance"] | {} == {
        "id": "liq-distance", "kind": "liq_distance_pct", "threshold": 5.0, "symbol": None,
        "severity": "warning", "cooldown_s": 900, "quiet_hours": None, "muted": False, "source": "config",
        "condition": "liquidation distance below 5%",
    }  # fmt: skip
    assert main(["alerts", "list"]) == 0
    out = capsys.readouterr().out
    assert "liq-distance" in out and "critical" in out


def test_add_keeps_a_user_rule_in_the_cache(db: Path, capsys: pytest.CaptureFixture) -> None:
    added = run_json(capsys, "alerts", "add", "--kind", "price_below", "--threshold", "60000", "--symbol",
                     "BTC", "--severity", "critical", "--cooldown", "60", "--quiet", "23:00-07:00",
                     "--json")  # fmt: skip
    assert added["id"] == "price-below-btc" and added["source"] == "user"
    assert (added["threshold"], added["cooldown_s"], added["quiet_hours"]) == (60000.0, 60, "23:00-07:00")
    again = run_json(capsys, "alerts", "add", "--kind", "price_below", "--threshold", "50000", "--symbol",
                     "BTC", "--json")  # fmt: skip
    assert again["id"] == "price-below-btc-2" and again["cooldown_s"] == 900  # the [alerts] default
    assert main(["alerts", "add", "--kind", "funding_z", "--threshold", "3", "--id", "fz"]) == 0
    assert capsys.readouterr().out.startswith("added rule fz: |funding z-score| above 3")
    listed = rules(capsys)
    assert [r["id"] for r in listed.values() if r["source"] == "user"] == [
        "fz",
        "price-below-btc",
        "price-below-btc-2",
    ]


def test_a_rule_left_to_the_defaults_follows_them_when_they_change(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["alerts", "add", "--kind", "drawdown_pct", "--threshold", "8", "--id", "dd"]) == 0
    monkeypatch.setenv("PERPTUI_ALERTS__COOLDOWN_S", "120")
    monkeypatch.setenv("PERPTUI_ALERTS__QUIET_HOURS", "22:00-06:00")
    capsys.readouterr()
    dd = rules(capsys)["dd"]
    assert (dd["cooldown_s"], dd["quiet_hours"]) == (120, "22:00-06:00")


def test_remove_takes_user_rules_only(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["alerts", "add", "--kind", "no_stop", "--symbol", "ETH", "--id", "eth-stop"]) == 0
    capsys.readouterr()
    code, line = run_error(capsys, "alerts", "remove", "no-stop")
    assert code == 2 and "is a default rule" in line and "perptui alerts mute no-stop" in line
    assert main(["alerts", "remove", "eth-stop"]) == 0
    assert capsys.readouterr().out == "removed rule eth-stop\n"
    assert "eth-stop" not in rules(capsys)
    code, line = run_error(capsys, "alerts", "remove", "eth-stop")
    assert code == 2 and "no alert rule 'eth-stop'" in line


def test_a_config_rule_is_removed_in_the_config_and_muted_here(
    db: Path, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    (tmp_path / "perptui.toml").write_text(
        '[[alerts.rules]]\nid = "dd"\nkind = "drawdown_pct"\nthreshold = 8\n'
    )
    _, line = run_error(capsys, "alerts", "remove", "dd")
    assert "a rule of the config file" in line
    assert main(["alerts", "mute", "dd"]) == 0
    assert capsys.readouterr().out == "muted rule dd\n"
    listed = rules(capsys)
    assert listed["dd"]["muted"] and listed["dd"]["source"] == "config" and listed["dd"]["threshold"] == 8
    unmuted = run_json(capsys, "alerts", "unmute", "dd", "--json")
    assert unmuted["rule"]["muted"] is False


def test_mute_and_unmute_a_user_rule_keep_its_values(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["alerts", "add", "--kind", "funding_apr", "--threshold", "80", "--id", "apr"]) == 0
    assert main(["alerts", "mute", "apr"]) == 0
    capsys.readouterr()
    apr = rules(capsys)["apr"]
    assert apr["muted"] and apr["threshold"] == 80 and apr["source"] == "user"
    assert main(["alerts", "unmute", "apr"]) == 0
    capsys.readouterr()
    assert not rules(capsys)["apr"]["muted"]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["add", "--kind", "no_stop", "--threshold", "5"], "--threshold: a no_stop rule takes none"),
        (["add", "--kind", "liq_distance_pct"], "--threshold: a liq_distance_pct rule needs one"),
        (["add", "--kind", "liq_distance_pct", "--threshold", "150"], "--threshold: 150.0 is outside"),
        (["add", "--kind", "stale_data_min", "--threshold", "nan"], "argument --threshold: 'nan'"),
        (["add", "--kind", "price_above", "--threshold", "1"], "--symbol: a price_above rule needs a market"),
        (["add", "--kind", "nope"], "argument --kind: invalid choice: 'nope'"),
        (
            ["add", "--kind", "drawdown_pct", "--threshold", "8", "--symbol", "BTC"],
            "--symbol: a drawdown_pct rule",
        ),
        (
            ["add", "--kind", "no_stop", "--quiet", "23:00"],
            "argument --quiet: '23:00' is not a span of hours",
        ),
        (["add", "--kind", "no_stop", "--id", "Bad Id"], "argument --id: 'Bad Id' is not a rule id"),
        (["add", "--kind", "no_stop", "--cooldown", "-1"], "argument --cooldown"),
        (["add", "--kind", "no_stop", "--severity", "loud"], "argument --severity"),
        (["add", "--threshold", "5"], "the following arguments are required: --kind"),
        (["history", "--limit", "0"], "argument --limit"),
        (["mute", "a:b"], "argument ID: 'a:b' is not a rule id"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_touches_no_cache(
    db: Path, capsys: pytest.CaptureFixture, argv: list[str], says: str
) -> None:
    code, line = run_error(capsys, "alerts", *argv)
    assert code == 2 and says in line, line
    assert not db.exists()


def test_an_id_in_use_is_refused_and_the_cache_unchanged(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["alerts", "add", "--kind", "no_stop", "--id", "mine"]) == 0
    capsys.readouterr()
    before = _dump(db)
    for taken in ("mine", "breaker"):
        code, line = run_error(capsys, "alerts", "add", "--kind", "no_stop", "--id", taken)
        assert code == 2 and f"a rule '{taken}' exists" in line
    assert _dump(db) == before


def test_history_lists_what_fired_newest_last(db: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_json(capsys, "alerts", "history", "--json") == {"history": []}
    assert main(["alerts", "history"]) == 0
    assert "no alert has fired yet" in capsys.readouterr().out
    with Store.open(db) as store, store.writing() as conn:
        for i, (kind, held) in enumerate([("fired", False), ("cleared", True), ("fired", False)]):
            n = Notification("liq:BTC/USDT:USDT", "liq-distance", kind, "warning",  # type: ignore[arg-type]
                             f"BTC/USDT:USDT long {3 + i}.00% from liquidation", "body", T0 + i * 60_000,
                             "BTC/USDT:USDT")  # fmt: skip
            entry = alerts_store.record(conn, Alert(n, held))
            if i == 0:
                alerts_store.set_delivered(
                    conn, entry, [{"target": "ntfy://***", "ok": True, "detail": "200"}]
                )
    history = run_json(capsys, "alerts", "history", "--json")["history"]
    assert [(h["kind"], h["held"]) for h in history] == [
        ("fired", False),
        ("cleared", True),
        ("fired", False),
    ]
    assert history[0]["at"] == "2025-06-01T00:00:00Z" and history[0]["delivered"][0]["ok"] is True
    newest = run_json(capsys, "alerts", "history", "--limit", "1", "--json")["history"]
    assert [h["title"] for h in newest] == ["BTC/USDT:USDT long 5.00% from liquidation"]
    assert main(["alerts", "history"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("2025-06-01T00:00:00Z  warning   fired    liq-distance")
    assert lines[0].endswith("[delivered to 1/1 targets]") and lines[1].endswith("[held (quiet hours)]")


def test_alerts_off_is_said_in_the_list(
    db: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPTUI_ALERTS__ENABLED", "false")
    assert run_json(capsys, "alerts", "list", "--json")["enabled"] is False
    assert main(["alerts", "list"]) == 0
    assert "alerts are off" in capsys.readouterr().err


def _dump(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return [line for line in con.iterdump() if "sqlite_stat" not in line]


def test_every_perp_is_for_funding_rules(db: Path, capsys: pytest.CaptureFixture) -> None:
    added = run_json(
        capsys, "alerts", "add", "--kind", "funding_apr", "--threshold", "50", "--all-perps", "--json"
    )
    assert added["symbol"] == "*"
    listed = {r["id"]: r for r in run_json(capsys, "alerts", "list", "--json")["rules"]}
    assert listed[added["id"]]["symbol"] == "*"
    code, line = run_error(capsys, "alerts", "add", "--kind", "no_stop", "--all-perps")
    assert code == 2 and "every perp of the scanner) is for funding rules" in line
    code, line = run_error(
        capsys, "alerts", "add", "--kind", "funding_flip", "--all-perps", "--symbol", "BTC"
    )
    assert code == 2 and "not allowed with" in line
