"""The risk service: one account's live risk, for the risk pane and ``perptui risk``.

API (stable; importing this package is light: numpy and arch load on the first ``build_report``)::

    ctx = open_context(settings, store, clock, engine=None, markets=())     # once
    events = await refresh_inputs(ctx, source)     # each poll, on the event loop (network there,
                                                   # SQLite in threads); source None = offline
    report = build_report(ctx)                     # then, in a worker thread (blocking)
    report.new_alerts                              # alerts raised by THIS check: notify + bell

- ``open_context`` picks the account from ``settings.account``: the paper account (default; pass the
  app's ``PaperEngine`` as ``engine`` so marks are shared) or, read-only, the exchange's (API keys).
- ``refresh_inputs(ctx, source, history=True) -> list[PaperEvent]``: marks and funding of the held
  symbols (paper: applied to the engine, whose fills, liquidations and funding come back as events;
  exchange: balance, positions, rates), then the held symbols' missing daily candles (400 days; once
  a day per symbol). Never raises for an unreachable source: ``ctx.live``/``ctx.stale`` say so.
- ``build_report(ctx, now=None, *, garch=True, record=True, chart_days=30) -> RiskReport``: positions
  (``PositionRisk``: liquidation distance in % and in sigmas of the EWMA daily volatility), portfolio
  (``PortfolioRisk``), VaR/CVaR 95/99 historical and parametric (``VarFigures``), volatility realised
  vs EWMA vs GARCH (``VolatilityRow``, GARCH cached per asset and daily bar), correlation, the limit
  checks (``LimitReport``: ``summary()`` for bars), alerts in force and new, the circuit breaker,
  equity and drawdown series for the chart, notes. With ``record`` it logs new/cleared alerts in
  ``risk_events`` (once per breach: see ``alerts``) and trips the breaker on a daily loss or drawdown
  breach. ``RiskReport.as_dict()`` is the ``perptui risk --json`` object.

The pane: ``refresh_inputs`` then ``build_report`` every 2 s (demo) from one worker that never overlaps
itself, skipped while the pane is hidden; ``report.new_alerts`` -> notification + bell. A first report
with GARCH costs ~1.5 s (importing arch); later ones a few ms per held asset plus SQLite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perptui.services.risk.context import ExchangeRead, RiskContext, open_context
from perptui.services.risk.report import Correlation, RiskReport, VarFigures, VolatilityRow

if TYPE_CHECKING:
    from perptui.services.risk.alerts import alert_log, log_alerts
    from perptui.services.risk.build import build_report
    from perptui.services.risk.refresh import refresh_history, refresh_inputs, refresh_marks

__all__ = [
    "Correlation",
    "ExchangeRead",
    "RiskContext",
    "RiskReport",
    "VarFigures",
    "VolatilityRow",
    "alert_log",
    "build_report",
    "log_alerts",
    "open_context",
    "refresh_history",
    "refresh_inputs",
    "refresh_marks",
]

_LAZY = {
    "build_report": "build",
    "log_alerts": "alerts",
    "alert_log": "alerts",
    "refresh_inputs": "refresh",
    "refresh_history": "refresh",
    "refresh_marks": "refresh",
}


def __getattr__(name: str) -> Any:
    """The heavy parts (numpy via the VaR maths) load on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"perptui.services.risk.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
