"""Parameter sweeps across processes, with a progress callback and a progress bar for the CLI.

``sweep(fn, items)`` is ``[fn(item) for item in items]`` run in a process pool: backtests are CPU-bound
numpy work, and threads would share one interpreter lock. Workers start with the ``forkserver`` method
(``spawn`` where there is none), never ``fork``: the app runs threads (Textual, the exchange clients),
and a forked child inherits their locks in whatever state they were. So ``fn`` and the items must be
picklable: ``fn`` a module-level function (a ``functools.partial`` of one works too), and each worker
imports ``fn``'s module afresh.

Results come back in the items' order whatever order they finish in. One worker or one item runs in
this process (no pool to start). A worker's exception stops the sweep (items not started are cancelled)
and becomes one line naming the item: ``sweep item 3 of 6 (top_n=2 rebalance=7d) failed: ...``.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from perptui.domain.backtest.grid import grid_label
from perptui.domain.errors import PerptuiError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]


class SweepError(PerptuiError):
    """A sweep item failed; the message names it. ``exit_code`` is the worker error's when that was a
    perptui error (a bad parameter stays a usage error), else 1."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def describe(item: object, limit: int = 80) -> str:
    """An item as a report names it: a parameter set as ``k=v k=v``, anything else by its repr."""
    text = grid_label(item) if isinstance(item, Mapping) else repr(item)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _failure(index: int, total: int, item: object, error: BaseException) -> SweepError:
    what = " ".join(str(error).split())
    if not isinstance(error, PerptuiError):
        what = f"{type(error).__name__}: {what}" if what else type(error).__name__
    code = error.exit_code if isinstance(error, PerptuiError) else 1
    return SweepError(f"sweep item {index + 1} of {total} ({describe(item)}) failed: {what}", code)


def _context() -> multiprocessing.context.BaseContext:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def sweep(
    fn: Callable[[T], R], items: Sequence[T], *, workers: int | None = None, progress: Progress | None = None
) -> list[R]:
    """``[fn(item) for item in items]`` across ``workers`` processes (default: every CPU this process may
    use); ``progress(done, total)`` after each result arrives."""
    items = list(items)
    total = len(items)
    count = default_workers() if workers is None else workers
    if count < 1:
        raise UsageError(f"sweep workers must be at least 1 (got {workers})")
    count = min(count, total)
    if count <= 1:
        return _serial(fn, items, progress)
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        name = getattr(fn, "__qualname__", repr(fn))
        raise UsageError(
            f"a parallel sweep needs a module-level function (picklable); {name} is not ({error})"
        ) from None
    results: list[Any] = [None] * total
    pool = ProcessPoolExecutor(max_workers=count, mp_context=_context())
    failed = True
    try:
        futures: dict[Future[R], int] = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            try:
                results[i] = future.result()
            except BrokenProcessPool:
                raise SweepError(
                    f"sweep item {i + 1} of {total} ({describe(items[i])}) failed: its worker process died "
                    "(killed, or out of memory)"
                ) from None
            except Exception as error:
                raise _failure(i, total, items[i], error) from error
            if progress is not None:
                progress(done, total)
        failed = False
    finally:
        pool.shutdown(wait=not failed, cancel_futures=True)
    return results


def _serial(fn: Callable[[T], R], items: list[T], progress: Progress | None) -> list[R]:
    results: list[R] = []
    for i, item in enumerate(items):
        try:
            results.append(fn(item))
        except Exception as error:
            raise _failure(i, len(items), item, error) from error
        if progress is not None:
            progress(i + 1, len(items))
    return results


@contextmanager
def with_progress_bar(total: int, description: str, *, console: Console | None = None) -> Iterator[Progress]:
    """A ``rich`` progress bar (on stderr unless ``console`` is given, so ``--json`` output stays clean)
    for ``with with_progress_bar(n, "sweep") as progress: sweep(fn, items, progress=progress)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    )
    with bar:
        task = bar.add_task(description, total=total)

        def update(done: int, of: int) -> None:
            bar.update(task, completed=done, total=of)

        yield update
