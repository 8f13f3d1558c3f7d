"""`perptui optimize` end to end: JSON keys and numbers against the domain, the table, the frontier, and
bad problem files: one line naming the field, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from perptui.domain.optimize import PortfolioProblem, optimize

from .cli_helpers import run_error, run_json

PROBLEM = {
    "assets": ["BTC", "ETH", "SOL", "DOGE"],
    "mu": [0.12, 0.15, -0.08, 0.05],
    "cov": [[0.36, 0.28, 0.30, 0.30], [0.28, 0.49, 0.35, 0.33], [0.30, 0.35, 0.81, 0.40],
            [0.30, 0.33, 0.40, 1.00]],
    "objective": "max_utility",
    "risk_aversion": 3,
    "bounds": [-0.5, 0.8],
    "gross_max": 1.5,
}  # fmt: skip
KEYS = [
    "weights",
    "expected_return",
    "volatility",
    "sharpe",
    "objective_value",
    "status",
    "message",
    "solve_ms",
]


def write(tmp_path: Path, data: object, name: str = "problem.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_json_has_the_keys_and_the_domain_numbers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = run_json(capsys, "optimize", "--input", write(tmp_path, PROBLEM), "--json")
    assert list(out)[: len(KEYS)] == KEYS
    assert list(out["weights"]) == PROBLEM["assets"]
    ref = optimize(PortfolioProblem(mu=np.array(PROBLEM["mu"]), cov=np.array(PROBLEM["cov"]), risk_aversion=3,
                                    bounds=(-0.5, 0.8), gross_max=1.5))  # fmt: skip
    assert list(out["weights"].values()) == pytest.approx(list(ref.weights), abs=1e-12)
    assert out["objective_value"] == pytest.approx(ref.objective_value, rel=1e-12)
    assert out["status"] == "optimal" and out["message"] == ""
    assert out["kkt"]["dual"] < 1e-10 and "frontier" not in out


@pytest.mark.parametrize(
    "extra",
    [
        {"objective": "max_sharpe", "risk_free_rate": 0.02},
        {"objective": "min_variance", "net_min": 1, "net_max": 1, "bounds": [[0, 1], [0, 1], [0, 1], [0, 1]]},
        {"objective": "efficient_risk", "target_volatility": 0.4},
        {"objective": "efficient_return", "target_return": 0.1, "l2_gamma": 0.01},
        {"vol_max": 0.3, "prev_weights": [0.1, 0.1, 0, 0], "turnover_cost": 0.002},
    ],
)
def test_every_objective_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture, extra: dict) -> None:
    out = run_json(capsys, "optimize", "--input", write(tmp_path, {**PROBLEM, **extra}), "--json")
    assert out["status"] == "optimal"
    w = np.array(list(out["weights"].values()))
    assert np.abs(w).sum() <= 1.5 + 1e-9


def test_frontier_points(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = run_json(
        capsys, "optimize", "--input", write(tmp_path, {**PROBLEM, "frontier_points": 6}), "--json"
    )
    assert len(out["frontier"]) == 6
    assert set(out["frontier"][0]) == {"expected_return", "volatility", "sharpe", "weights"}
    vols = [p["volatility"] for p in out["frontier"]]
    assert vols == sorted(vols)


def test_cash_when_nothing_earns(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = {**PROBLEM, "objective": "max_sharpe", "mu": [-0.1, -0.2, -0.05, -0.01], "bounds": [0, 1]}
    out = run_json(capsys, "optimize", "--input", write(tmp_path, data), "--json")
    assert out["status"] == "cash" and set(out["weights"].values()) == {0.0}
    assert "risk-free rate" in out["message"] and out["sharpe"] is None


def test_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from perptui.cli import main

    assert main(["optimize", "--input", write(tmp_path, {**PROBLEM, "frontier_points": 3})]) == 0
    text = capsys.readouterr().out
    for word in ("BTC", "DOGE", "max_utility: optimal", "expected return", "Sharpe", "efficient frontier"):
        assert word in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "is not JSON"),
        ([1, 2], "must hold a JSON object"),
        ({k: v for k, v in PROBLEM.items() if k != "cov"}, "missing field 'cov'"),
        ({**PROBLEM, "mu": [0.1, 0.2]}, "mu has 2 numbers but there are 4 assets"),
        ({**PROBLEM, "cov": [[1, 0], [0, 1]]}, "cov must be a list of 4 rows of 4 numbers"),
        (
            {**PROBLEM, "cov": [[1, 0, 0, 0], [0.5, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]},
            "cov must be symmetric",
        ),
        (
            {**PROBLEM, "cov": [[1, 2, 0, 0], [2, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]},
            "positive semi-definite",
        ),
        (
            '{"assets": ["a"], "mu": [NaN], "cov": [[1]], "objective": "max_utility"}',
            "mu[0] must be a finite number",
        ),
        ({**PROBLEM, "objective": "max_return"}, "unknown objective 'max_return': use one of"),
        ({**PROBLEM, "leverage": 3}, "unknown key 'leverage': accepted keys are"),
        ({**PROBLEM, "bounds": [[0, 1]]}, "bounds must be one [lo, hi] pair or 4 pairs"),
        ({**PROBLEM, "gross_max": "big"}, "gross_max must be a number"),
        ({**PROBLEM, "frontier_points": 1}, "frontier_points must be a whole number from 2 to 500"),
        ({**PROBLEM, "assets": ["BTC", "BTC", "SOL", "DOGE"]}, "assets lists 'BTC' twice"),
        ({**PROBLEM, "net_min": 0.5, "gross_max": 0.3}, "net_min 0.5 exceeds gross_max 0.3"),
        ({**PROBLEM, "objective": "efficient_risk"}, "needs target_volatility"),
    ],
)
def test_bad_problem_files_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, data: object, message: str
) -> None:
    code, line = run_error(capsys, "optimize", "--input", write(tmp_path, data), "--json")
    assert code == 2
    assert message in line, line


def test_missing_file_and_missing_flag(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, line = run_error(capsys, "optimize", "--input", str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read" in line
    with pytest.raises(SystemExit) as exc:
        from perptui.cli import main

        main(["optimize"])
    assert exc.value.code == 2
    assert "--input" in capsys.readouterr().err
