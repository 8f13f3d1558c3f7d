"""The portfolio: equity, wallet, PnL, exposure, leverage and drawdown, then the 1-day VaR and CVaR
(historical and parametric) and the volatility of the biggest positions. Money is masked in privacy
mode. ``compact`` (a terminal under 30 rows) gives five lines: the four figure lines and the 1-day VaR."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt

if TYPE_CHECKING:
    from perptui.services.risk import RiskReport

LABEL = 12


def _sign_style(value: float | None) -> str:
    if value is None or value == 0:
        return ""
    return "$text-success" if value > 0 else "$text-error"


def _label(text: str, width: int = LABEL) -> tuple[str, str]:
    return (f"{text:<{width}}", "$text-muted")


def portfolio(report: RiskReport, *, private: bool, compact: bool = False) -> Content:
    p, cur = report.portfolio, report.currency

    def money(value: float | None, *, signed: bool = False) -> tuple[str, str]:
        text = fmt.money(value, private=private, signed=signed)
        return (f"{text:>12}", _sign_style(value) if signed else "bold")

    h, q = report.historical, report.parametric

    def pair(left: str, lvalue: float | None, right: str, rvalue: float | None) -> Content:
        right_value = money(rvalue, signed=True)
        return Content.assemble(_label(left), money(lvalue), f" {cur} ", _label(right, 9), right_value)

    drawdown_style = "$text-error" if p.drawdown else "bold"
    lines = [
        pair("Equity", p.equity, "uPnL", p.unrealized_pnl),
        pair("Wallet", p.wallet_balance, "Today", p.pnl_today),
        pair("Gross", p.gross_exposure, "Net", p.net_exposure),
        Content.assemble(
            _label("Leverage"), (f"{fmt.leverage(p.leverage):>12}", "bold"), " " * (len(cur) + 2),
            _label("Drawdown", 9), (f"{fmt.pct(p.drawdown):>12}", drawdown_style),
        ),
    ]  # fmt: skip
    if compact:
        # The 1-day VaR at 95% and 99%, historical when there is enough history, else parametric.
        var, method = (h, "hist") if h.var_95 is not None else (q, "param")
        lines.append(
            Content.assemble(
                _label(f"VaR95 {method}"), money(var.var_95), " " * (len(cur) + 2), _label("VaR99", 9),
                money(var.var_99),
            )
        )  # fmt: skip
        return Content("\n").join(lines)
    lines += [
        Content(""),
        Content.assemble(_label("1-day VaR"), (f"{'95%':>12}{'99%':>12}", "$text-muted")),
    ]
    for name, v95, v99 in (
        ("historical", h.var_95, h.var_99),
        ("  CVaR", h.cvar_95, h.cvar_99),
        ("parametric", q.var_95, q.var_99),
        ("  CVaR", q.cvar_95, q.cvar_99),
    ):
        lines.append(Content.assemble(_label(f" {name}"), money(v95), money(v99)))
    for why in (h.reason, q.reason if q.reason != h.reason else None):
        if why:
            lines.append(Content.styled(f"  {why}", "$text-muted"))
    vols = report.volatility[:3]
    if vols:
        lines.append(Content(""))
        header = f"{'realised':>12}{'EWMA':>7}{'GARCH':>7}"
        lines.append(Content.assemble(_label("Vol/day"), (header, "$text-muted")))
        for v in vols:
            garch = fmt.pct(v.garch, 1)
            lines.append(
                Content.assemble(
                    _label(f"  {v.symbol.split('/')[0][: LABEL - 2]}"),
                    f"{fmt.pct(v.realised, 1):>12}{fmt.pct(v.ewma, 1):>7}{garch:>7}",
                )
            )
    return Content("\n").join(lines)


class RiskPortfolio(Static):
    def show(self, report: RiskReport, *, private: bool, compact: bool) -> None:
        self.update(portfolio(report, private=private, compact=compact))
