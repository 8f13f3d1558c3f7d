"""Fuzz the command line's grammar, in-process (issue 19).

The grammar is read from the parser itself: every command and action, each flag and positional with its
type or choices. Hypothesis builds command lines with at least one malformed value (a kind of garbage
each flag's type must refuse: empty, NaN, Unicode digits, huge, malformed symbols, ids beyond SQLite's,
dates out of range ...) among valid ones; each must be refused in one line, exit 2, without the command
being run (so nothing is written). A second property runs ``size --offline`` for real on a cached demo
market with edge-case numbers: never a traceback, a refusal one line and the database unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perptui.cli as cli
from tests.cli_grammar import BAD, GOOD, GRAMMAR, kind_of, value_args


@st.composite
def malformed_command_line(draw: st.DrawFn) -> list[str]:
    """A command, some of its arguments with valid values and at least one with garbage of its kind."""
    path, parser = draw(st.sampled_from(GRAMMAR))
    actions = value_args(parser)
    if not actions:
        return draw(malformed_command_line())
    bad = draw(st.sampled_from(actions))
    options = draw(
        st.lists(st.sampled_from([a for a in actions if a.option_strings]), max_size=3, unique_by=id)
    )
    # Positionals in their order (each gets a value, else the garbage would land in another's place),
    # then the options, the garbage last.
    chosen = [a for a in actions if not a.option_strings] + [a for a in options if a is not bad]
    if bad.option_strings:
        chosen.append(bad)
    argv = list(path)
    for action in chosen:
        kind = kind_of(action)
        assert kind is not None
        if action is bad:
            value = draw(st.sampled_from(BAD[kind]))
        elif kind == "choice":
            value = str(draw(st.sampled_from(list(action.choices or ()))))
        else:
            value = GOOD[kind]
        if action.option_strings:
            argv.append(f"{action.option_strings[-1]}={value}")  # '=' so that '-1' stays a value
        else:
            argv.append(value)
    return argv


# --- running ----------------------------------------------------------------------------------------


def run(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``perptui ARGV``; any exception but SystemExit fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def fingerprint(db: Path) -> str:
    """The database's contents (not its bytes: opening it may checkpoint the WAL)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = [line for line in con.iterdump() if "sqlite_stat" not in line]  # PRAGMA optimize's statistics
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def cached_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding the demo market's markets and tickers (as `perptui markets` left them)."""
    db = tmp_path_factory.mktemp("fuzz") / "cache.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PERPTUI_DB", str(db))
        env.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
        code, _, err = run(["size", "--symbol", "BTC", "--side", "long", "--stop-pct", "2", "--json"])
        assert code == 0, err
    return db


def test_the_grammar_covers_every_command() -> None:
    names = {" ".join(path) for path, _ in GRAMMAR}
    assert {"size", "paper order", "paper carry open", "scan", "fetch", "backtest", "optimize"} <= names
    assert len(names) >= 25
    kinds = {kind_of(a) for _, p in GRAMMAR for a in value_args(p)}
    assert set(BAD) <= kinds  # every kind of argument is fuzzed


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(argv=malformed_command_line())
def test_malformed_input_is_refused_in_one_line_before_the_command_runs(argv: list[str]) -> None:
    ran: list[argparse.Namespace] = []

    def handler(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
        ran.append(args)
        return lambda _: 0

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "handler_for", handler)
        code, out, err = run(argv)
    assert not ran, f"{argv!r} was accepted: {ran}"
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err


EDGE_NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "1e308", "1e-308", "5e-324", "100", "99.999", "125", "200", "0.01", "1e12"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).map(repr),
)
SIZE_FLAGS = [
    "--entry",
    "--stop",
    "--equity",
    "--risk-pct",
    "--risk-usd",
    "--leverage",
    "--fee",
    "--slippage-bps",
]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    stop=st.sampled_from(["--stop-pct", "--stop-atr", "--stop"]),
    flags=st.dictionaries(st.sampled_from(SIZE_FLAGS), EDGE_NUMBERS, max_size=4),
    stop_value=EDGE_NUMBERS,
)
def test_size_on_the_cache_never_crashes_and_a_refusal_writes_nothing(
    cached_demo: Path, stop: str, flags: dict[str, str], stop_value: str
) -> None:
    if stop == "--stop":
        flags.pop("--stop", None)
    argv = ["size", "--offline", "--symbol", "BTC", "--side", "long", f"{stop}={stop_value}", "--json"]
    for flag, value in flags.items():
        if not (flag == "--risk-usd" and "--risk-pct" in flags):
            argv.append(f"{flag}={value}")
    before = fingerprint(cached_demo)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PERPTUI_DB", str(cached_demo))
        env.setenv("PERPTUI_DEMO__FROZEN_AT", "2025-06-01T00:00")
        code, out, err = run(argv)
    assert "Traceback" not in err
    if code == 0:
        data = json.loads(out)
        assert data["quantity"] >= 0 and math.isfinite(data["quantity"])
    else:
        assert code in (1, 2) and out == "", (argv, err)
        assert len(err.strip().splitlines()) == 1, err
        assert fingerprint(cached_demo) == before
