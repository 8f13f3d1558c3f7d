"""Where the CLI writes: data to stdout (JSON alone with --json), messages and progress to stderr."""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    global _out
    if _out is None:
        from rich.console import Console

        _out = Console(highlight=False)
    return _out


def err() -> Console:
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True, highlight=False)
    return _err


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Machine-readable output: valid JSON (no NaN/Infinity: unknown is null) and nothing else."""
    sys.stdout.write(json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def error_line(message: str, prog: str = "perptui") -> None:
    """One line on stderr, never wrapped: what is wrong and what is accepted."""
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.stderr.flush()


def say(message: str) -> None:
    """A plain line on stdout, never wrapped (scripts may grep it)."""
    sys.stdout.write(message + "\n")


def note(message: str) -> None:
    err().print(message, markup=False, style="dim")
