"""`perptui` (bare) / `perptui app`: the Textual terminal app on the configured market.

Only the settings are read here; the store, the market source and the account are opened by the app's
workers after the first frame (and closed on exit), so neither the database nor ccxt delays it.
"""

from __future__ import annotations

import argparse

from .context import settings_from_args


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    from perptui.ui.factory import build_app

    app = build_app(settings)
    app.run()
    return app.return_code or 0
