"""The architecture holds: the domain does no I/O, domain and services never import Textual, and
nothing heavy is imported before a command runs."""

from __future__ import annotations

import pkgutil
import subprocess
import sys


def _modules(prefix: str) -> list[str]:
    package = __import__(prefix, fromlist=["_"])
    return [prefix, *(info.name for info in pkgutil.walk_packages(package.__path__, prefix + "."))]


def _loaded_after_importing(modules: list[str]) -> set[str]:
    """Every module in sys.modules after importing ``modules`` in a fresh interpreter."""
    script = "\n".join(["import sys", *(f"import {m}" for m in modules), "print('\\n'.join(sys.modules))"])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_domain_and_services_do_not_import_textual() -> None:
    modules = _modules("perptui.domain") + _modules("perptui.services") + _modules("perptui.config")
    assert len(modules) > 5
    assert "textual" not in _top_level(_loaded_after_importing(modules))


def test_domain_does_no_io() -> None:
    """Maths may use numpy/scipy; UI, exchanges, databases, HTTP and file locations stay out."""
    loaded = _loaded_after_importing(_modules("perptui.domain"))
    for io_module in ("textual", "rich", "ccxt", "sqlite3", "aiohttp", "platformdirs"):
        assert io_module not in _top_level(loaded), f"the domain layer imports {io_module}"
    assert not any(name.startswith(("perptui.services", "perptui.cli", "perptui.config")) for name in loaded)


def test_cli_start_up_imports_nothing_heavy() -> None:
    top = _top_level(_loaded_after_importing(["perptui.cli"]))
    for heavy in ("ccxt", "pandas", "scipy", "numpy", "textual"):
        assert heavy not in top, f"`perptui` imports {heavy} before running any command"


def test_the_app_and_its_panes_import_nothing_heavy_before_the_first_frame() -> None:
    """The panes' maths, the cache and the charts load in workers after the first frame."""
    top = _top_level(_loaded_after_importing(["perptui.ui.factory", "perptui.ui.app", "perptui.ui.panes"]))
    for heavy in ("ccxt", "pandas", "scipy", "numpy", "sqlite3", "textual_plotext", "plotext", "arch"):
        assert heavy not in top, f"the app imports {heavy} before its first frame"
