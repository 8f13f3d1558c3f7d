"""`perptui` (bare) / `perptui app`: the Textual terminal app on the configured market.

Only settings and the store are prepared here; the market source and the account are built by the
app's workers after the first frame, so ccxt, pandas and scipy never delay it.
"""

from __future__ import annotations

import argparse

from .context import open_store, settings_from_args


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    from perptui.ui.factory import build_app

    with open_store(settings) as store:
        app = build_app(settings, store=store)
        app.run()
    return app.return_code or 0
