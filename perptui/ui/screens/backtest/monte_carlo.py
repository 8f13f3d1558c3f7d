"""The Monte Carlo summary: paths, horizon and blocks, P(loss), P(drawdown >= the limit), and the 5th,
50th and 95th percentiles of the final equity and the maximum drawdown. Under 100 columns (``narrow``)
one figure a line rather than lines wrapped inside a figure."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from perptui.presentation import numbers as fmt
from perptui.ui.screens.backtest.series import Shown

LABEL = 13


def monte_carlo_lines(shown: Shown, *, private: bool) -> list[str]:
    """P(loss), P(drawdown >= limit) and the percentiles of the final equity and the max drawdown."""
    mc = shown.report.monte_carlo
    if mc is None:
        return ["no Monte Carlo: set its paths with m"]
    keys = [f"p{q:g}" for q in mc.percentiles]
    final = dict(zip(keys, (float(x) for x in mc.final_equity), strict=True))
    dd = dict(zip(keys, (float(x) for x in mc.max_drawdown), strict=True))
    first = (
        f"{mc.n_paths:,} paths × {mc.horizon_days} days (blocks of {mc.block_days:g} d, seed {mc.seed}) · "
    )
    first += f"P(loss) {fmt.pct(mc.prob_loss, 1)}"
    if mc.drawdown_limit is not None and mc.prob_drawdown_limit is not None:
        first += f" · P(drawdown ≥ {fmt.pct(mc.drawdown_limit, 0)}) {fmt.pct(mc.prob_drawdown_limit, 1)}"
    else:
        first += " · no drawdown limit set (risk.max_drawdown_pct)"
    picks = [k for k in ("p5", "p50", "p95") if k in final]
    equity = "  ".join(f"{k} {fmt.money(final[k], private=private, decimals=0)}" for k in picks)
    drawdown = "  ".join(f"{k} {fmt.pct(-dd[k], 1)}" for k in picks)
    return [first, f"final equity {equity} · max drawdown {drawdown}"]


class MonteCarloSummary(Static):
    def show(self, shown: Shown, *, private: bool, narrow: bool) -> None:
        lines = monte_carlo_lines(shown, private=private)
        if narrow:  # one figure a line rather than lines wrapped inside a figure
            lines = [part for line in lines for part in line.split(" · ")]
        label = Content.styled(f"{'Monte Carlo':<{LABEL}}", "bold $text-primary")
        pad = Content(" " * LABEL)
        self.update(
            Content("\n").join(
                [Content.assemble(label if i == 0 else pad, Content(line)) for i, line in enumerate(lines)]
            )
        )
