"""Read ``perptui optimize``'s problem file: a JSON object, checked field by field so that a bad file gets
one line naming the field and what it accepts. Imports nothing heavy (numpy comes in with the result)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from perptui.domain.errors import UsageError

REQUIRED = ("assets", "mu", "cov", "objective")
NUMBERS = (
    "risk_aversion", "target_volatility", "target_return", "risk_free_rate", "gross_max", "net_min",
    "net_max", "vol_max", "l2_gamma", "turnover_cost",
)  # fmt: skip
OPTIONAL = (*NUMBERS, "bounds", "prev_weights", "frontier_points")
#: The largest magnitude of any figure (yearly fractions: 1e6 is 100,000,000%), and of an expected return
#: or a covariance (100 = 10,000% a year): beyond these the solver's arithmetic overflows or loses every
#: digit, so its answer would be noise.
MAX_MAGNITUDE = 1e6
MAX_MOMENT = 100.0
#: Below this a non-zero figure is noise too (its square underflows).
MIN_MAGNITUDE = 1e-12
MAX_ASSETS = 1_000
MAX_NAME = 64
#: The deepest nesting a problem has is 3 (a list of [lo, hi] pairs in the object); JSON nested far
#: deeper is refused before Python's parser recurses through it.
MAX_DEPTH = 16


class ProblemFileError(UsageError):
    """The problem file is not what ``perptui optimize`` reads."""


def _number(field: str, value: Any, largest: float = MAX_MAGNITUDE) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemFileError(f"{field} must be a number, not {_shown(value)}")
    if isinstance(value, int) and abs(value) > largest:  # float() of a 400-digit int overflows
        raise ProblemFileError(
            f"{field} is {_shown(value)}: accepted are numbers from -{largest:g} to {largest:g}"
        )
    if not math.isfinite(value):
        raise ProblemFileError(f"{field} must be a finite number, not {value}")
    if abs(value) > largest or 0 < abs(value) < MIN_MAGNITUDE:
        raise ProblemFileError(
            f"{field} is {value:g}: accepted are 0 and numbers from {MIN_MAGNITUDE:g} to {largest:g} "
            "in size (yearly fractions: 0.12 = 12%)"
        )
    return float(value)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, int) or abs(value) < 10**30 else f"{str(value)[:12]}..."
    return text if len(text) <= 40 else text[:40] + "..."


def _numbers(field: str, value: Any, n: int, largest: float = MAX_MAGNITUDE) -> list[float]:
    if not isinstance(value, list):
        raise ProblemFileError(f"{field} must be a list of {n} numbers (one per asset)")
    if len(value) != n:
        raise ProblemFileError(f"{field} has {len(value)} numbers but there are {n} assets")
    return [_number(f"{field}[{i}]", v, largest) for i, v in enumerate(value)]


def _bounds(value: Any, n: int) -> tuple[float, float] | list[tuple[float, float]]:
    what = f"bounds must be one [lo, hi] pair or {n} pairs (one per asset)"
    if not isinstance(value, list) or not value:
        raise ProblemFileError(what)
    if all(not isinstance(v, list) for v in value):
        if len(value) != 2:
            raise ProblemFileError(what)
        return _number("bounds[0]", value[0]), _number("bounds[1]", value[1])
    if len(value) != n or any(not isinstance(v, list) or len(v) != 2 for v in value):
        raise ProblemFileError(what)
    return [(_number(f"bounds[{i}][0]", v[0]), _number(f"bounds[{i}][1]", v[1])) for i, v in enumerate(value)]


def _assets(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(a, str) and a.strip() for a in value):
        raise ProblemFileError("assets must be a non-empty list of names (strings)")
    if len(value) > MAX_ASSETS:
        raise ProblemFileError(f"assets lists {len(value):,} names: at most {MAX_ASSETS:,} are accepted")
    for a in value:
        if len(a) > MAX_NAME or any(ord(ch) < 32 for ch in a):
            raise ProblemFileError(
                f"asset name {a[:20]!r}... is not accepted: at most {MAX_NAME} characters, "
                "no control characters"
            )
    seen: set[str] = set()
    for a in value:
        if a in seen:
            raise ProblemFileError(f"assets lists {a!r} twice")
        seen.add(a)
    return list(value)


def _depth(text: str) -> int:
    """How deep brackets nest in JSON text (those inside strings not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_problem(path: Path) -> tuple[dict[str, Any], int | None]:
    """(keyword arguments of ``PortfolioProblem`` as plain Python values, frontier points or None)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProblemFileError(f"{path} is not a UTF-8 text file") from None
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise ProblemFileError(f"{path} nests lists or objects {depth:,} deep: a problem needs at most 3")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemFileError(
            f"{path} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ProblemFileError(f"{path} must hold a JSON object with the keys {', '.join(REQUIRED)}")
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            raise ProblemFileError(
                f"unknown key {key!r}: accepted keys are {', '.join((*REQUIRED, *OPTIONAL))}"
            )
    for key in REQUIRED:
        if key not in data:
            raise ProblemFileError(f"missing field {key!r}: a problem needs {', '.join(REQUIRED)}")
    assets = _assets(data["assets"])
    n = len(assets)
    mu = _numbers("mu", data["mu"], n, MAX_MOMENT)
    cov_in = data["cov"]
    if not isinstance(cov_in, list) or len(cov_in) != n:
        raise ProblemFileError(f"cov must be a list of {n} rows of {n} numbers (a {n} x {n} matrix)")
    cov = [_numbers(f"cov[{i}]", row, n, MAX_MOMENT) for i, row in enumerate(cov_in)]
    if not isinstance(data["objective"], str):
        raise ProblemFileError("objective must be a name such as max_utility")
    out: dict[str, Any] = {"assets": tuple(assets), "mu": mu, "cov": cov, "objective": data["objective"]}
    for key in NUMBERS:
        if data.get(key) is not None:
            out[key] = _number(key, data[key])
    if data.get("bounds") is not None:
        out["bounds"] = _bounds(data["bounds"], n)
    if data.get("prev_weights") is not None:
        out["prev_weights"] = _numbers("prev_weights", data["prev_weights"], n)
    points = data.get("frontier_points")
    if points is not None and (
        isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 500
    ):
        raise ProblemFileError(
            f"frontier_points must be a whole number from 2 to 500, not {json.dumps(points)}"
        )
    return out, points
