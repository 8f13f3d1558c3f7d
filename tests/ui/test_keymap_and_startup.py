"""Remapping keys from the config file, and what the app imports before its first frame."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from perptui.config.loader import load_settings
from perptui.config.paths import CONFIG_ENV
from perptui.domain.errors import ConfigError
from perptui.services.store import Store
from perptui.ui.factory import build_app
from perptui.ui.widgets.dialogs import FormDialog
from tests.ui.helpers import settle, sync


def _settings_from_file(tmp_path, monkeypatch, keymap: str):
    path = tmp_path / "config.toml"
    path.write_text(f'[demo]\nfrozen_at = "2025-06-01T00:00"\n\n[keymap]\n{keymap}\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    return load_settings({}, {})


@sync
async def test_a_key_remapped_in_the_config_file_works(tmp_path, monkeypatch, demo_source) -> None:
    settings = _settings_from_file(tmp_path, monkeypatch, 'deposit = "D,plus"\nprivacy = "ctrl+h"')
    app = build_app(settings, source=demo_source, store=Store.open(":memory:"), clock=demo_source.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape", "plus")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape", "p")
        assert not app.privacy
        await pilot.press("ctrl+h")
        assert app.privacy
        await pilot.press("question_mark")
        await pilot.pause()
        rows = {r.binding_id: r.keys for r in app.screen.rows}
        assert rows["deposit"] == "D, +" and rows["privacy"] == "^h"


def test_an_unknown_binding_id_is_a_clear_error(tmp_path, monkeypatch) -> None:
    settings = _settings_from_file(tmp_path, monkeypatch, 'depositt = "D"')
    with pytest.raises(ConfigError, match=r"unknown key binding id 'depositt'; known ids: .*deposit"):
        build_app(settings, store=Store.open(":memory:"))


def test_no_ccxt_pandas_or_scipy_before_the_first_frame() -> None:
    """In a fresh interpreter: nothing heavy at the first frame; on the demo market, not even later."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from perptui.config.settings import Settings
        from perptui.services.store import Store
        from perptui.ui.factory import build_app

        HEAVY = ("ccxt", "pandas", "scipy")
        settings = Settings.model_validate({"demo": {"frozen_at": "2025-06-01T00:00"}})
        app = build_app(settings, store=Store.open(":memory:"))

        async def main():
            async with app.run_test(size=(120, 40)) as pilot:
                first = [m for m in HEAVY if m in sys.modules]
                for _ in range(3):
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                later = [m for m in HEAVY if m in sys.modules]
                print(first, later, app.query_one("#equity").text)

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[] [] 5,000.00 USDT"
