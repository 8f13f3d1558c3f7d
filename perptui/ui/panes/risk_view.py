"""The risk pane's panels as Textual Content: the portfolio with VaR and volatility, the limits as bars,
and the alerts with the circuit breaker. Built from one ``RiskReport``; money is masked in privacy mode.

``compact`` (a terminal under 30 rows) gives the portfolio in five lines (the four figure lines and the
1-day VaR) and the limits without their heading, one line a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

from perptui.presentation import numbers as fmt
from perptui.presentation import risk as rf

if TYPE_CHECKING:
    from perptui.domain.limits import LimitCheck
    from perptui.services.risk import RiskReport

BAR_WIDTH = 10
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


def _check_style(c: LimitCheck) -> str:
    if c.breached:
        return "bold $text-error"
    if c.warning:
        return "$text-warning"
    return "$text-success" if c.value is not None else "$text-muted"


def limits(report: RiskReport, *, compact: bool = False) -> Content:
    checks = report.limits.summary()
    if not checks:
        return Content.styled("every limit is switched off ([risk] in the config)", "$text-muted")
    lines = [] if compact else [Content.styled("Limits (worst position)", "bold $text-primary")]
    for c in checks:
        subject = c.symbol.split("/")[0] if c.symbol else ""
        flag = rf.limit_flag(c)
        lines.append(
            Content.assemble(
                (f"{rf.LIMIT_LABELS[c.kind]:<15}", "$text-muted"),
                (f"{subject:<8.8}", ""),
                (rf.bar(c.closeness, BAR_WIDTH, full="█", empty="░"), _check_style(c)),
                f" {rf.limit_value(c)}",
                (f" {flag}" if flag else "", _check_style(c)),
            )
        )
    return Content("\n").join(lines)


def alerts(report: RiskReport) -> Content:
    b = report.breaker
    lines = [Content.styled(rf.breaker_text(b), "bold $text-error" if b.tripped else "$text-success")]
    if report.alerts:
        for a in report.alerts:
            style = "bold $text-error" if a.severity == "critical" else "$text-warning"
            lines.append(Content.assemble(("! ", style), (a.message, style)))
    else:
        lines.append(Content.styled("no alerts: every limit holds", "$text-muted"))
    return Content("\n").join(lines)
