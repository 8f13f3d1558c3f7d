"""Parameter grids for sweeps and walk-forward: ``KEY=V1,V2,...`` settings and their cartesian product.

Values stay the text the user typed (``"1"``, ``"7d"``): the backtest's parameters parse them, the same
way as a single ``--param KEY=VALUE``, so a grid and a plain run accept exactly the same values. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from perptui.domain.errors import UsageError


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination, keys in the grid's order, the last key varying fastest; an empty grid is one
    empty parameter set (the defaults)."""
    for key, values in grid.items():
        if isinstance(values, str) or len(values) == 0:
            raise UsageError(f"grid key {key!r} needs a list of one or more values")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """``["top_n=1,2,3", "rebalance=7d,30d"]`` -> ``{"top_n": ["1", "2", "3"], "rebalance": ["7d",
    "30d"]}``; one-line errors for a missing ``=``, an empty value, a key or a value given twice."""
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"bad grid setting {item!r}: use KEY=VALUE[,VALUE...] (e.g. top_n=1,2,3)")
        values = [v.strip() for v in text.split(",")]
        if any(not v for v in values):
            raise UsageError(f"bad grid setting {item!r}: an empty value; use KEY=VALUE[,VALUE...]")
        if key in grid:
            raise UsageError(f"grid key {key!r} given twice; list all its values once: {key}=V1,V2")
        if len(set(values)) != len(values):
            raise UsageError(f"grid key {key!r} repeats a value in {text!r}")
        grid[key] = values
    return grid


def grid_label(params: Mapping[str, Any]) -> str:
    """``top_n=1 rebalance=7d`` (``defaults`` for none): how a parameter set is named in reports."""
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
