"""Issue 19's done means: the bad-input corpus (``tests/bad_input_corpus.py``: the issue's list, every flag
of every command with each garbage of its kind, and values only the command can refuse) gives no
traceback, no garbage accepted, no hang and no change to the cache on refusal.

Each case runs in-process on its own copy of a seeded cache; a case that hangs is stopped by
faulthandler after two minutes (the worker exits with every thread's stack), so a hang fails the run
instead of stalling it.
"""

from __future__ import annotations

import faulthandler
from pathlib import Path

import pytest

from tests.bad_input_corpus import (
    Case,
    Outcome,
    all_cases,
    content_digest,
    issue_cases,
    problems,
    refused,
    run_case,
    run_in_process,
    seed_cache,
)

HANG_S = 120
CASES = all_cases()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("corpus")
    seed = seed_cache(root)
    return root, seed, content_digest(seed)


def test_the_corpus_rebuilds_the_issues_list_and_covers_every_command() -> None:
    assert len(issue_cases()) >= 60
    assert len(CASES) >= 1_000
    commands = {c.argv[0] for c in CASES}
    assert commands >= {
        "size",
        "paper",
        "account",
        "scan",
        "markets",
        "fetch",
        "import",
        "config",
        "optimize",
        "allocate",
        "backtest",
        "risk",
        "overview",
        "alerts",
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_cleanly(seeded: tuple[Path, Path, str], case: Case) -> None:
    root, seed, digest = seeded
    faulthandler.dump_traceback_later(HANG_S, exit=True)
    try:
        got = run_case(case, root, seed, digest, run_in_process)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert problems(case, got) == [], (case.argv, got.code, got.out[-500:], got.err[-500:])


def test_the_checker_catches_garbage_accepted_a_changed_cache_and_a_traceback(
    seeded: tuple[Path, Path, str],
) -> None:
    root, seed, digest = seeded
    valid = refused("paper order --symbol BTC --side long --qty 0.01", "refused", name="a valid order")
    found = problems(valid, run_case(valid, root, seed, digest, run_in_process))
    assert "garbage accepted (exit 0)" in found and "changed the cache" in found
    crash = Outcome(1, "", "Traceback (most recent call last):\n  ...\nOverflowError\n")
    assert "traceback" in problems(refused("size", ""), crash)
    assert problems(refused("size", ""), Outcome(-1, "", "", hung=True)) == ["hung"]
