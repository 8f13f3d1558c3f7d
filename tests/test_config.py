"""Settings precedence (flags > env > file > defaults), clear one-line errors, and `perptui config`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from perptui.cli import main
from perptui.config.loader import load_settings
from perptui.config.settings import Settings
from perptui.config.template import default_config_text
from perptui.domain.errors import ConfigError


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config file named by PERPTUI_CONFIG (a PERPTUI_CONFIG naming no file is refused)."""
    path = tmp_path / "perptui.toml"
    path.write_text("")
    monkeypatch.setenv("PERPTUI_CONFIG", str(path))
    return path


def test_defaults_without_any_source(config_file: Path) -> None:
    settings = load_settings()
    assert settings.exchange_name == "demo"
    assert settings.demo.seed == 7
    assert settings.network.timeout_ms == 10_000
    assert settings.db is None


def test_precedence_flag_over_env_over_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('exchange = "bybit"\ndb = "/from/file.db"\n[demo]\nseed = 11\n')
    assert load_settings().exchange == "bybit"
    assert load_settings().demo.seed == 11

    monkeypatch.setenv("PERPTUI_EXCHANGE", "okx")
    monkeypatch.setenv("PERPTUI_DEMO__SEED", "12")
    monkeypatch.setenv("PERPTUI_DB", "/from/env.db")
    settings = load_settings()
    assert (settings.exchange, settings.demo.seed, str(settings.db)) == ("okx", 12, "/from/env.db")

    settings = load_settings({"exchange": "binanceusdm", "db": "/from/flag.db", "demo.seed": 13})
    assert (settings.exchange, settings.demo.seed, str(settings.db)) == ("binanceusdm", 13, "/from/flag.db")


def test_api_base_url_from_env_keeps_its_path_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_API_BASE_URL", "http://127.0.0.1:8080/some/path/")
    assert load_settings().api_base_url == "http://127.0.0.1:8080/some/path"


def test_api_base_url_flag_prefixes_every_exchange_url(config_file: Path) -> None:
    """A relay serving an exchange under a path (https://relay.example/bybit): the flag's prefix reaches
    every REST URL the adapter calls, not just its scheme and host."""
    import argparse
    import asyncio

    from perptui.cli.context import settings_from_args
    from perptui.services.exchanges.urls import iter_urls
    from perptui.services.sources import open_market_data

    prefix = "https://relay.example/binance"
    args = argparse.Namespace(exchange="binanceusdm", api_base_url=prefix + "/")
    settings = settings_from_args(args)
    assert settings.api_base_url == prefix
    source = open_market_data(settings)
    asyncio.run(source.close())
    urls = iter_urls(source.ccxt_urls)  # type: ignore[attr-defined]
    assert urls and all(u.startswith(prefix + "/") for u in urls)
    assert prefix + "/fapi/v1" in urls and prefix + "/api/v3" in urls


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x?key=1", "http://127.0.0.1:8080/#top"])
def test_api_base_url_with_a_query_or_fragment_is_refused(config_file: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="path prefix"):
        load_settings({"api_base_url": url}, {"api_base_url": "--api-base-url"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[network]\ntimeout_ms = 3\n", "network.timeout_ms"),
        ('[demo]\nseed = "abc"\n', "demo.seed"),
        ("[demo]\nseeds = 3\n", "unknown setting 'demo.seeds'"),
        ("colour = 1\n", "unknown setting 'colour'"),
        ('api_base_url = "ftp://x"\n', "http(s) URL"),
        ('exchange = "bybit\n', "not valid TOML"),
    ],
)
def test_bad_file_value_names_key_and_file(config_file: Path, text: str, expected: str) -> None:
    config_file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert str(config_file) in message
    assert "\n" not in message


def test_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_NETWORK__MAX_RETRIES", "many")
    with pytest.raises(ConfigError, match="PERPTUI_NETWORK__MAX_RETRIES"):
        load_settings()


def test_unreadable_config_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "a-folder.toml"
    folder.mkdir()
    monkeypatch.setenv("PERPTUI_CONFIG", str(folder))
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings()


def test_secret_values_are_never_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPTUI_API_KEY", "{not-a-string-for-sure}")
    monkeypatch.setenv("PERPTUI_NETWORK__TIMEOUT_MS", "1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "not-a-string" not in str(info.value)


def test_cli_bad_config_exits_2_with_one_line(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    config_file.write_text("[network]\nmax_retries = 99\n")
    assert main(["config"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "network.max_retries" in lines[0] and str(config_file) in lines[0]
    assert "Traceback" not in captured.err


def test_config_json_masks_secrets_and_shows_paths(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("PERPTUI_API_KEY", "AKIA-very-secret-key")
    monkeypatch.setenv("PERPTUI_API_SECRET", "shhh-do-not-print")
    assert main(["config", "--json", "--db", "/tmp/x.db"]) == 0
    out = capsys.readouterr().out
    assert "very-secret" not in out and "shhh" not in out
    data = json.loads(out)
    assert data["settings"]["api_key"] == "***"
    assert data["settings"]["api_password"] is None
    assert data["settings"]["db"] == "/tmp/x.db"
    assert data["paths"]["config_file"] == str(config_file)
    assert data["paths"]["db"] == "/tmp/x.db"


def test_config_table_masks_secrets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("PERPTUI_API_SECRET", "shhh-do-not-print")
    assert main(["config"]) == 0
    assert "shhh" not in capsys.readouterr().out


def test_config_init_writes_loadable_defaults_and_refuses_to_overwrite(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.unlink()
    assert main(["config", "--init"]) == 0
    text = config_file.read_text()
    assert text == default_config_text()
    tomllib.loads(text)
    assert load_settings() == load_settings({}, config_path=config_file.parent / "absent.toml")
    # every setting is documented in the file
    for key in ("exchange", "api_base_url", "seed", "timeout_ms", "max_retries"):
        assert f"# {key} =" in text

    config_file.write_text("# my edits\n")
    assert main(["config", "--init"]) == 1
    assert config_file.read_text() == "# my edits\n"
    assert "already exists" in capsys.readouterr().err


def test_loading_settings_creates_no_files(tmp_path: Path) -> None:
    home = Path.home()
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    load_settings()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before


def test_plan_split_must_make_100(config_file: Path) -> None:
    config_file.write_text("[plan]\nneutral_pct = 60\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "must make 100, not 90" in str(info.value) and str(config_file) in str(info.value)
    config_file.write_text("[plan]\nneutral_pct = 60\ndirectional_pct = 40\n")
    assert load_settings().plan.neutral_pct == 60


def test_account_sections_defaults_and_keymap(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.account == "paper"
    assert settings.paper.starting_capital == 5_000
    assert settings.risk.risk_pct == 1.0
    assert (settings.plan.neutral_pct, settings.plan.directional_pct) == (70, 30)
    config_file.write_text('account = "exchange"\n[keymap]\nquit = "ctrl+q"\n[ui]\ntheme = "light"\n')
    settings = load_settings()
    assert settings.account == "exchange"
    assert settings.keymap == {"quit": "ctrl+q"}
    assert settings.ui.theme == "light"
    monkeypatch.setenv("PERPTUI_ACCOUNT", "broker")
    with pytest.raises(ConfigError, match="PERPTUI_ACCOUNT"):
        load_settings()


def test_another_exchange_gets_none_of_the_configured_exchanges_keys_or_mirror() -> None:
    from perptui.services.sources import for_other_exchange

    settings = Settings.model_validate(
        {
            "exchange": "binanceusdm",
            "api_key": "k-123",
            "api_secret": "s-456",
            "api_password": "p-789",
            "api_base_url": "http://127.0.0.1:9",
        }
    )
    other = for_other_exchange(settings, " Bybit ")
    assert other.exchange == "bybit"
    assert (other.api_key, other.api_secret, other.api_password, other.api_base_url) == (None,) * 4
    assert for_other_exchange(settings, "bybit", keep_base_url=True).api_base_url == "http://127.0.0.1:9"
    assert for_other_exchange(settings, "BINANCEUSDM") is settings  # the configured one keeps its keys
    assert for_other_exchange(settings, "demo").exchange_name == "demo"
