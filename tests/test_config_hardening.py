"""Issue 19: every environment value, config key and config path is checked or refused with one line;
secrets stay secret (URL credentials masked, plain http only to this machine, a warning for a readable
file holding keys)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.config.loader import load_settings
from perptui.config.template import default_config_text
from perptui.config.urls import is_insecure_url, mask_url
from perptui.domain.errors import ConfigError


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "perptui.toml"
    path.write_text("")
    monkeypatch.setenv("PERPTUI_CONFIG", str(path))
    return path


def refused_in_one_line(argv: list[str], capsys: pytest.CaptureFixture, code: int = 2) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


# ------------------------------------------------------------------------------------------ environment


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bybit", ["bybit"]),
        ("bybit, OKX", ["bybit", "okx"]),
        ('["bybit", "okx"]', ["bybit", "okx"]),
        ("", []),
    ],
)
def test_a_list_from_the_environment_takes_plain_comma_separated_ids(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("PERPTUI_SCAN__EXCHANGES", value)
    assert load_settings().scan.exchanges == expected


@pytest.mark.parametrize("value", ["bad id", "bybit;rm", '["bybit", 3]', "[not json"])
def test_a_bad_exchange_list_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, value: str
) -> None:
    monkeypatch.setenv("PERPTUI_SCAN__EXCHANGES", value)
    line = refused_in_one_line(["config"], capsys)
    assert "PERPTUI_SCAN__EXCHANGES" in line and "scan.exchanges" in line and "bybit,okx" in line


def test_the_config_file_list_is_checked_too(config_file: Path) -> None:
    config_file.write_text('[scan]\nexchanges = ["Bybit", "okx"]\n')
    assert load_settings().scan.exchanges == ["bybit", "okx"]
    config_file.write_text('[scan]\nexchanges = ["💩"]\n')
    with pytest.raises(ConfigError, match=r"scan\.exchanges"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("PERPTUI_KEYMAP", "not json", "PERPTUI_KEYMAP__QUIT=ctrl+q"),
        ("PERPTUI_RISK", "nope", "PERPTUI_RISK__RISK_PCT"),
        ("PERPTUI_NETWORK", "{", "PERPTUI_NETWORK__TIMEOUT_MS"),
    ],
)
def test_a_table_variable_that_is_not_json_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, name: str, value: str, accepted: str
) -> None:
    monkeypatch.setenv(name, value)
    line = refused_in_one_line(["config"], capsys)
    assert name in line and repr(value) in line and accepted in line


def test_tables_from_the_environment_as_json_or_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_RISK", '{"risk_pct": 0.5}')
    monkeypatch.setenv("PERPTUI_KEYMAP__QUIT", "ctrl+q")
    settings = load_settings()
    assert settings.risk.risk_pct == 0.5 and settings.keymap == {"quit": "ctrl+q"}
    monkeypatch.setenv("PERPTUI_RISK", '{"bogus": 1}')
    with pytest.raises(
        ConfigError, match=r"unknown setting 'risk.bogus' in environment variable PERPTUI_RISK;"
    ):
        load_settings()


@pytest.mark.parametrize(
    "name", ["PERPTUI_BOGUS", "PERPTUI_DEMO_SEED", "PERPTUI_EXCHANGE__ID", "perptui_nope"]
)
def test_an_unknown_perptui_variable_is_refused_like_an_unknown_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, name: str
) -> None:
    monkeypatch.setenv(name, "1")
    line = refused_in_one_line(["config"], capsys)
    assert f"unknown environment variable {name}" in line
    assert "PERPTUI_<SECTION>__<KEY>" in line and "demo" in line and "exchange" in line


def test_known_variables_of_every_kind_pass(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PERPTUI_EXCHANGE": "bybit",
        "PERPTUI_DEMO__SEED": "3",
        "PERPTUI_KEYMAP__QUIT": "ctrl+q",
        "perptui_offline": "true",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.exchange, settings.demo.seed, settings.offline) == ("bybit", 3, True)


# ------------------------------------------------------------------------------------------ config path


def test_a_perptui_config_naming_no_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "typo.toml"
    monkeypatch.setenv("PERPTUI_CONFIG", str(path))
    line = refused_in_one_line(["config"], capsys)
    assert f"PERPTUI_CONFIG names {path}, which does not exist" in line and "perptui config --init" in line
    # ... and --init is how it comes to exist
    assert main(["config", "--init"]) == 0
    assert path.read_text() == default_config_text()
    assert main(["config"]) == 0


def test_the_default_config_file_may_be_absent() -> None:
    assert load_settings().exchange_name == "demo"


@pytest.mark.parametrize("where", ["under-a-file", "/proc/nope/config.toml", "/proc/config.toml"])
def test_config_init_on_an_unwritable_path_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, where: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    if where == "under-a-file":
        where = str(blocker / "config.toml")
    elif not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    monkeypatch.setenv("PERPTUI_CONFIG", where)
    line = refused_in_one_line(["config", "--init"], capsys)
    assert f"cannot create the config file {where} named by PERPTUI_CONFIG" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"] and blocker.read_text() == "x"


def test_config_init_in_unwritable_user_dirs_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "cfg").write_text("a file where the config folder should be")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    line = refused_in_one_line(["config", "--init"], capsys, code=1)
    assert "cannot create the config file" in line and "set PERPTUI_CONFIG" in line


def test_config_init_creates_its_folder_and_file_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "config.toml"
    monkeypatch.setenv("PERPTUI_CONFIG", str(path))
    old = os.umask(0o022)
    try:
        assert main(["config", "--init"]) == 0
    finally:
        os.umask(old)
    assert (path.parent.stat().st_mode & 0o777, path.stat().st_mode & 0o777) == (0o700, 0o600)


# ------------------------------------------------------------------------------------------ keymap


def test_config_refuses_an_unknown_keymap_id(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    config_file.write_text('[keymap]\ndepositt = "D"\n')
    line = refused_in_one_line(["config"], capsys)
    assert "unknown key binding id 'depositt'" in line and "deposit" in line


def test_a_key_that_takes_another_bindings_only_key_is_refused(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text('[keymap]\ndeposit = "w"\n')
    line = refused_in_one_line(["config"], capsys)
    assert "deposit = \"w\" takes 'w' from withdraw (Withdraw)" in line and 'withdraw = "W"' in line
    config_file.write_text('[keymap]\ndeposit = "w"\nwithdraw = "W"\n')  # moved out of the way: fine
    assert main(["config"]) == 0
    config_file.write_text('[keymap]\ndeposit = "w"\nwithdraw = "d"\n')  # swapped: fine
    assert main(["config"]) == 0


def test_the_app_refuses_the_same_clash_before_it_starts(config_file: Path) -> None:
    from perptui.ui.factory import build_app

    config_file.write_text('[keymap]\nrange_prev = "d"\n')
    with pytest.raises(ConfigError, match=r"takes 'd' from deposit \(Deposit\)"):
        build_app(load_settings())


# ------------------------------------------------------------------------------------------ secrets


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_config_file_holding_a_secret_readable_by_others_is_warned_about(
    config_file: Path, capsys: pytest.CaptureFixture, mode: int, warned: bool
) -> None:
    config_file.write_text('exchange = "bybit"\napi_secret = "s3cret-value"\n')
    config_file.chmod(mode)
    assert main(["config"]) == 0
    err = capsys.readouterr().err
    assert ("warning: config file" in err) is warned
    if warned:
        assert f"chmod 600 {config_file}" in err and f"(mode {mode:04o})" in err and "api_secret" in err
    assert "s3cret" not in err


def test_a_readable_config_file_without_secrets_is_not_warned_about(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text('exchange = "bybit"\napi_secret = ""\n')
    config_file.chmod(0o644)
    assert main(["config"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_mask_url() -> None:
    assert mask_url("https://user:pa55@relay.example/bybit") == "https://***@relay.example/bybit"
    assert mask_url("see http://tok@h:1/x and https://a:b@c") == "see http://***@h:1/x and https://***@c"
    assert mask_url("https://relay.example/a@b") == "https://relay.example/a@b"  # '@' in the path only


def test_url_credentials_are_masked_in_config_output(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text('api_base_url = "https://trader:pa55word@relay.example/bybit"\n')
    config_file.chmod(0o600)
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    assert "pa55word" not in out and "trader" not in out
    assert json.loads(out)["settings"]["api_base_url"] == "https://***@relay.example/bybit"
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "pa55word" not in out and "https://***@relay.example/bybit" in out


def test_url_credentials_are_masked_in_errors_and_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_API_BASE_URL", "http://trader:pa55word@relay.example")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "pa55word" not in str(info.value) and "http://***@relay.example" in str(info.value)

    from perptui.domain.errors import UsageError
    from perptui.services.exchanges.ccxt_adapter import CcxtExchange
    from perptui.services.exchanges.urls import check_base_url

    with pytest.raises(UsageError) as bad:
        check_base_url("ftp://trader:pa55word@relay.example")
    assert "pa55word" not in str(bad.value)
    import asyncio

    adapter = CcxtExchange("binanceusdm", api_base_url="https://trader:pa55word@relay.example")
    asyncio.run(adapter.close())
    assert "pa55word" not in repr(adapter) and "https://***@relay.example" in repr(adapter)


@pytest.mark.parametrize(
    "url",
    ["http://example.com", "http://10.0.0.1:8080", "http://127.0.0.1.example.com", "http://[::2]:80"],
)
def test_plain_http_to_another_host_is_refused_from_every_source(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, url: str
) -> None:
    line = refused_in_one_line(["config", "--api-base-url", url], capsys)
    assert "flag --api-base-url" in line and "network.allow_insecure = true" in line and url in line
    monkeypatch.setenv("PERPTUI_API_BASE_URL", url)
    assert "environment variable PERPTUI_API_BASE_URL" in refused_in_one_line(["config"], capsys)
    monkeypatch.delenv("PERPTUI_API_BASE_URL")
    config_file.write_text(f'api_base_url = "{url}"\n')
    assert f"config file {config_file}" in refused_in_one_line(["config"], capsys)
    config_file.write_text(f'api_base_url = "{url}"\n[network]\nallow_insecure = true\n')
    assert load_settings().api_base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:9",
        "http://LOCALHOST.:9",
        "http://[::1]:9",
        "http://[::ffff:127.0.0.1]:9",
        "https://relay.example/bybit",
    ],
)
def test_loopback_and_https_stay_allowed(url: str) -> None:
    assert load_settings({"api_base_url": url}).api_base_url == url
    assert not is_insecure_url(url)


def test_the_default_file_documents_allow_insecure() -> None:
    assert "# allow_insecure = false" in default_config_text()
