"""Run the CLI in-process and read what it printed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from perptui.cli import main


def run_json(capsys: pytest.CaptureFixture, *argv: str) -> Any:
    """Run a command that must succeed; its stdout must be JSON and nothing else."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def run_error(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """Run a command that must fail with nothing on stdout and one line, no traceback, on stderr (argparse's
    refusals exit through SystemExit)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return code, lines[0]
