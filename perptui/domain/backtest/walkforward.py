"""Rolling walk-forward: parameters chosen on a past window, then judged on the window after it.

Folds: an in-sample (IS) window of ``in_sample_days`` followed by an out-of-sample (OOS) window of
``out_of_sample_days``; the next fold starts ``out_of_sample_days`` later, so the OOS windows tile the
run without overlap. Only whole folds are made (a tail shorter than an OOS window is not tested).

For each fold every parameter set of the grid is run on the IS window and the one with the best IS
Sharpe is kept (ties: the first in the grid; a set whose Sharpe is unknown never wins over a known one;
when none is known the first set is kept and the fold says so). That set alone is run on the OOS window.
The stitched OOS equity chains the folds: each fold's OOS path is scaled to start from the previous
fold's end equity (the first from ``capital``), so it is the equity a trader re-optimising on schedule
would have had.

**Overfitting rule**: with IS Sharpe = the mean over folds of the chosen set's in-sample Sharpe, and
OOS Sharpe = the Sharpe of the stitched out-of-sample equity, ``overfit_warning`` is a sentence when
IS Sharpe > 0 and OOS Sharpe < 0 (the sign flips), or IS Sharpe > 0.5 and OOS Sharpe < 50% of it;
otherwise (or when either is unknown) None.

Pure: the runs come from ``evaluate(params, start_ms, end_ms) -> (times, equity)``, or from
``map_jobs`` which runs a list of ``(params, start_ms, end_ms)`` jobs at once (e.g. across processes)
and returns their paths in order. A strategy needing a warm-up reads history before ``start_ms``
itself: the window is where it trades and is measured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perptui.domain.backtest.grid import grid_label
from perptui.domain.backtest.metrics import Metrics, metrics_of
from perptui.domain.errors import UsageError
from perptui.domain.timeframes import DAY_MS, iso_utc

Path = tuple[np.ndarray, np.ndarray]
Job = tuple[Mapping[str, Any], int, int]
Evaluate = Callable[[Mapping[str, Any], int, int], Path]
MapJobs = Callable[[list[Job]], Sequence[Path]]

#: The overfitting rule's thresholds (see the module docstring).
OVERFIT_MIN_IS_SHARPE = 0.5
OVERFIT_OOS_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class FoldSpan:
    is_start: int
    is_end: int
    oos_start: int
    oos_end: int


def plan_folds(start_ms: int, end_ms: int, in_sample_days: int, out_of_sample_days: int) -> list[FoldSpan]:
    """The whole folds between ``start_ms`` and ``end_ms`` (see the module docstring)."""
    if in_sample_days < 1 or out_of_sample_days < 1:
        raise UsageError(
            f"walk-forward windows must be at least 1 day (in-sample {in_sample_days}, "
            f"out-of-sample {out_of_sample_days})"
        )
    is_ms, oos_ms = in_sample_days * DAY_MS, out_of_sample_days * DAY_MS
    count = (end_ms - start_ms - is_ms) // oos_ms if end_ms - start_ms >= is_ms else 0
    if count < 1:
        have = max(0.0, (end_ms - start_ms) / DAY_MS)
        raise UsageError(
            f"walk-forward needs at least {in_sample_days + out_of_sample_days} days "
            f"({in_sample_days} in-sample + {out_of_sample_days} out-of-sample); the run has {have:g}"
        )
    folds = []
    for i in range(int(count)):
        s = start_ms + i * oos_ms
        folds.append(FoldSpan(s, s + is_ms, s + is_ms, s + is_ms + oos_ms))
    return folds


@dataclass(frozen=True, slots=True, eq=False)
class Fold:
    span: FoldSpan
    choice: int
    """Index of the chosen set in the grid."""
    params: dict[str, Any]
    in_sample_sharpes: tuple[float | None, ...]
    """Every grid set's IS Sharpe, in the grid's order."""
    in_sample: Metrics
    out_of_sample: Metrics
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "in_sample": {"from": iso_utc(self.span.is_start), "to": iso_utc(self.span.is_end)},
            "out_of_sample": {"from": iso_utc(self.span.oos_start), "to": iso_utc(self.span.oos_end)},
            "params": dict(self.params),
            "in_sample_metrics": self.in_sample.as_dict(),
            "out_of_sample_metrics": self.out_of_sample.as_dict(),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, eq=False)
class WalkForwardResult:
    folds: tuple[Fold, ...]
    times: np.ndarray
    equity: np.ndarray
    """The stitched OOS equity (see the module docstring)."""
    out_of_sample: Metrics
    in_sample_sharpe: float | None
    out_of_sample_sharpe: float | None
    overfit_warning: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "folds": [fold.as_dict() for fold in self.folds],
            "in_sample_sharpe": self.in_sample_sharpe,
            "out_of_sample_sharpe": self.out_of_sample_sharpe,
            "out_of_sample": self.out_of_sample.as_dict(),
            "overfit_warning": self.overfit_warning,
            "equity_curve": [
                [iso_utc(int(t)), float(e)] for t, e in zip(self.times, self.equity, strict=True)
            ],
        }


def overfit_warning(in_sample_sharpe: float | None, out_of_sample_sharpe: float | None) -> str | None:
    """The module's overfitting rule, as a sentence for the trader (None: no warning)."""
    if in_sample_sharpe is None or out_of_sample_sharpe is None or in_sample_sharpe <= 0:
        return None
    flipped = out_of_sample_sharpe < 0
    fell = (
        in_sample_sharpe > OVERFIT_MIN_IS_SHARPE
        and out_of_sample_sharpe < OVERFIT_OOS_SHARE * in_sample_sharpe
    )
    if not (flipped or fell):
        return None
    return (
        f"possible overfitting: in-sample Sharpe {in_sample_sharpe:.2f} but out-of-sample "
        f"{out_of_sample_sharpe:.2f}; the chosen parameters did much worse on data they were not chosen on"
    )


def _path(result: Path, job: Job) -> Path:
    times, equity = (np.asarray(a) for a in result)
    if len(times) == 0 or len(times) != len(equity):
        params, start, end = job
        raise UsageError(
            f"walk-forward: {grid_label(params)} gave no equity path for {iso_utc(start)} to {iso_utc(end)}"
        )
    return times.astype(np.int64), equity.astype(np.float64)


def _best(sharpes: Sequence[float | None]) -> int | None:
    """Index of the highest known Sharpe (the first of equals), None when none is known."""
    known = [(s, i) for i, s in enumerate(sharpes) if s is not None]
    if not known:
        return None
    top = max(s for s, _ in known)
    return next(i for s, i in known if s == top)


def walk_forward(
    evaluate: Evaluate,
    grid: Sequence[Mapping[str, Any]],
    *,
    start_ms: int,
    end_ms: int,
    in_sample_days: int,
    out_of_sample_days: int,
    capital: float | None = None,
    map_jobs: MapJobs | None = None,
) -> WalkForwardResult:
    """Walk forward over ``grid`` (parameter sets, e.g. ``expand_grid``'s) from ``start_ms`` to
    ``end_ms``. ``capital``: the stitched equity's start (default: the first OOS path's start)."""
    if not grid:
        raise UsageError("walk-forward needs at least one parameter set")
    folds_at = plan_folds(start_ms, end_ms, in_sample_days, out_of_sample_days)
    run = map_jobs or (lambda jobs: [evaluate(*job) for job in jobs])
    is_jobs: list[Job] = [(params, f.is_start, f.is_end) for f in folds_at for params in grid]
    is_paths = [_path(p, job) for p, job in zip(run(is_jobs), is_jobs, strict=True)]
    is_metrics = [metrics_of(*p) for p in is_paths]
    n = len(grid)
    choices: list[tuple[int, str | None]] = []
    for i in range(len(folds_at)):
        sharpes = [m.sharpe for m in is_metrics[i * n : (i + 1) * n]]
        best = _best(sharpes)
        note = (
            None if best is not None else "no parameter set has a known in-sample Sharpe: the first is kept"
        )
        choices.append((0 if best is None else best, note))
    oos_jobs: list[Job] = [
        (grid[c], f.oos_start, f.oos_end) for (c, _), f in zip(choices, folds_at, strict=True)
    ]
    oos_paths = [_path(p, job) for p, job in zip(run(oos_jobs), oos_jobs, strict=True)]

    folds: list[Fold] = []
    times: list[np.ndarray] = []
    equity: list[np.ndarray] = []
    level = float(oos_paths[0][1][0]) if capital is None else float(capital)
    for i, (span, (choice, note), (t, e)) in enumerate(zip(folds_at, choices, oos_paths, strict=True)):
        if not e[0] > 0:
            raise UsageError(
                f"walk-forward: the out-of-sample run from {iso_utc(span.oos_start)} starts without equity"
            )
        scaled = e * (level / e[0])
        if times and t[0] == times[-1][-1]:
            t, scaled = t[1:], scaled[1:]
        times.append(t)
        equity.append(scaled)
        if len(equity[-1]):
            level = float(equity[-1][-1])
        folds.append(
            Fold(
                span=span,
                choice=choice,
                params=dict(grid[choice]),
                in_sample_sharpes=tuple(m.sharpe for m in is_metrics[i * n : (i + 1) * n]),
                in_sample=is_metrics[i * n + choice],
                out_of_sample=metrics_of(*oos_paths[i]),
                note=note,
            )
        )
    all_t, all_e = np.concatenate(times), np.concatenate(equity)
    stitched = metrics_of(all_t, all_e)
    known = [f.in_sample.sharpe for f in folds if f.in_sample.sharpe is not None]
    is_sharpe = float(np.mean(known)) if known else None
    return WalkForwardResult(
        folds=tuple(folds),
        times=all_t,
        equity=all_e,
        out_of_sample=stitched,
        in_sample_sharpe=is_sharpe,
        out_of_sample_sharpe=stitched.sharpe,
        overfit_warning=overfit_warning(is_sharpe, stitched.sharpe),
    )
