"""`perptui optimize --input PROBLEM.json`: solve one mean-variance problem exactly and print the weights,
their expected return, volatility and Sharpe ratio (and the efficient frontier with frontier_points).

The maths is ``perptui.domain.optimize``; the file's fields are read by ``problem_file``. Figures are
yearly fractions (0.12 = 12%), weights fractions of capital (+ long, - short).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .output import out, print_json, say
from .problem_file import read_problem

if TYPE_CHECKING:
    from perptui.domain.optimize import FrontierPoint, OptimizeResult


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from perptui.domain.optimize import PortfolioProblem, efficient_frontier, optimize

    fields, points = read_problem(args.input)
    assets = fields["assets"]
    arrays = {
        k: np.asarray(v, dtype=float)
        for k, v in fields.items()
        if k in ("mu", "cov", "bounds", "prev_weights")
    }
    problem = PortfolioProblem(**{**fields, **arrays})
    result = optimize(problem)
    frontier = efficient_frontier(problem, points, warm=result.warm) if points else []
    if args.json:
        print_json(as_dict(result, assets, frontier if points else None))
    else:
        render(result, assets, frontier)
    return 0


def as_dict(
    result: OptimizeResult, assets: tuple[str, ...], frontier: list[FrontierPoint] | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "weights": result.weights_by_asset(assets),
        "expected_return": result.expected_return,
        "volatility": result.volatility,
        "sharpe": result.sharpe,
        "objective_value": result.objective_value,
        "status": result.status,
        "message": result.message,
        "solve_ms": round(result.solve_ms, 3),
        "objective": result.objective,
        "iterations": result.iterations,
        "kkt": result.kkt.as_dict(),
    }
    if frontier is not None:
        data["frontier"] = [p.as_dict(assets) for p in frontier]
    return data


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:+.2f}%"


def render(result: OptimizeResult, assets: tuple[str, ...], frontier: list[FrontierPoint]) -> None:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("asset", no_wrap=True)
    table.add_column("weight", justify="right", no_wrap=True)
    for a, w in zip(assets, result.weights, strict=True):
        style = "dim" if abs(w) < 1e-9 else ("green" if w > 0 else "red")
        table.add_row(a, _pct(float(w)), style=style)
    out().print(table)
    gross = float(abs(result.weights).sum())
    net = float(result.weights.sum())
    sharpe = "—" if result.sharpe is None else f"{result.sharpe:.3f}"
    say(f"{result.objective}: {result.status}" + (f" ({result.message})" if result.message else ""))
    say(
        f"expected return {_pct(result.expected_return)} a year, volatility {result.volatility * 100:.2f}%, "
        f"Sharpe {sharpe}, gross {gross:.4f}, net {net:+.4f}"
    )
    say(
        f"objective value {result.objective_value:.10g}; solved in {result.solve_ms:.2f} ms, "
        f"{result.iterations} iterations, KKT residuals {max(result.kkt.primal, result.kkt.dual):.1e}"
    )
    if frontier:
        ft = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, title="efficient frontier")
        for h in ("#", "volatility", "expected return", "Sharpe"):
            ft.add_column(h, justify="right", no_wrap=True)
        for i, p in enumerate(frontier, 1):
            ft.add_row(
                str(i),
                f"{p.volatility * 100:.2f}%",
                _pct(p.expected_return),
                "—" if p.sharpe is None else f"{p.sharpe:.3f}",
            )
        out().print(ft)
