"""``build_app``: the one way to build the app, for the CLI, the tests and the screenshots.

Nothing heavy happens here: the market source and the account are built by the app's workers after
the first frame unless given. Tests pass a DemoExchange on a FrozenClock and an in-memory Store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perptui.ui.app import PerptuiApp
from perptui.ui.context import AppContext
from perptui.ui.keymap import binding_ids, check_clashes, check_keymap

if TYPE_CHECKING:
    from perptui.config.settings import Settings
    from perptui.services.clock import Clock
    from perptui.services.marketdata import MarketData
    from perptui.services.store import Store


def binding_classes() -> list[type]:
    """Every class whose BINDINGS the keymap can remap."""
    from perptui.ui.panes import PANES
    from perptui.ui.screens.alerts import AlertsScreen, RuleForm
    from perptui.ui.screens.backtest import BacktestScreen
    from perptui.ui.screens.help import HelpScreen
    from perptui.ui.screens.live_orders.screen import LiveOrdersScreen
    from perptui.ui.widgets.dialogs import ConfirmDialog, FormDialog
    from perptui.ui.widgets.live_dialogs import NakedDialog, TypedConfirmDialog
    from perptui.ui.widgets.live_table import LiveTable
    from perptui.ui.widgets.vim import VimScroll, VimTable

    screens: list[type] = [
        HelpScreen,
        BacktestScreen,
        AlertsScreen,
        RuleForm,
        FormDialog,
        ConfirmDialog,
        LiveOrdersScreen,
        TypedConfirmDialog,
        NakedDialog,
    ]
    classes: list[type] = [PerptuiApp, *screens, VimScroll, VimTable, LiveTable]
    return classes + [spec.load() for spec in PANES]


def known_binding_ids() -> dict[str, str]:
    """Every remappable binding id -> its default keys."""
    return binding_ids(binding_classes())


def checked_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """The user's ``[keymap]``, or ConfigError: an unknown id, no key, or a key that takes another's."""
    if not keymap:
        return {}
    clean = check_keymap(keymap, known_binding_ids())
    check_clashes(clean, binding_classes())
    return clean


def build_app(
    settings: Settings,
    *,
    source: MarketData | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
    other_sources: dict[str, MarketData] | None = None,
) -> PerptuiApp:
    """The app on ``settings``. Missing pieces are made from the settings (in workers, after the first
    frame): the store at the configured path (closed on exit), the demo or ccxt source; the clock is the
    frozen or system one; the sources of the other exchanges the scanner compares (``[scan] exchanges``)
    are ``other_sources`` or ccxt's. An unknown id in ``[keymap]``, or a key that would take another
    binding's only key, raises ConfigError before anything starts."""
    from perptui.services.sources import clock_for, for_other_exchange, open_market_data

    keymap = checked_keymap(settings.keymap)
    clock = clock or getattr(source, "clock", None) or clock_for(settings)
    chosen_clock = clock

    def make_store() -> Store:
        if store is not None:
            return store
        from perptui.config.paths import default_db_file
        from perptui.services.store import Store

        opened = Store.open(settings.db or default_db_file())
        opened.retention = settings.cache.retention()
        return opened

    def make_source() -> MarketData:
        return source if source is not None else open_market_data(settings, ctx.store(), chosen_clock)

    def make_other_source(exchange: str) -> MarketData:
        if other_sources is not None and exchange in other_sources:
            return other_sources[exchange]
        return open_market_data(for_other_exchange(settings, exchange), ctx.store(), chosen_clock)

    def make_account(market: MarketData | None) -> Any:
        from perptui.services.accounts import open_account

        # The demo market has no account of its own: it always shows the paper account.
        chosen = settings if settings.exchange else settings.model_copy(update={"account": "paper"})
        return open_account(chosen, ctx.store(), chosen_clock, market)

    ctx = AppContext(
        settings,
        clock,
        make_store,
        make_source,
        make_account,
        owns_store=store is None,
        other_source_factory=make_other_source,
    )
    return PerptuiApp(ctx, keymap=keymap)
