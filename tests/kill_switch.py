"""A deterministic kill -9 for the crash tests' child processes: SIGKILL at a chosen SQL statement.

A kill sent from outside after a sleep lands wherever the child happens to be, so what a crash test
checks changes from run to run (and with the machine's load). Here the child kills itself, so the same
arguments always crash at the same statement, inside a write transaction that has already run the
statements before it.

``spec`` is ``N`` (the N-th statement run inside a write transaction) or ``N@TEXT`` (the N-th of those
whose SQL contains ``TEXT``), counted from the moment ``arm`` is called. The write transaction's own
``BEGIN IMMEDIATE`` is not counted; its ``COMMIT`` is, so a kill can also land just before the commit.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys

#: What the child writes to stderr just before it dies; the test reads the statement after it.
KILLED_BEFORE = "killed before: "


def parse(spec: str) -> tuple[int, str]:
    """``N`` or ``N@TEXT`` -> (N, TEXT); N counts from 1."""
    count, _, text = spec.partition("@")
    n = int(count)
    if n < 1:
        raise ValueError(f"a kill point counts statements from 1, not {spec!r}")
    return n, text


def arm(conn: sqlite3.Connection, spec: str) -> None:
    """SIGKILL this process just before the statement ``spec`` names runs on ``conn`` (see the module)."""
    at, text = parse(spec)
    seen = 0
    writing = False

    def trace(sql: str) -> None:
        nonlocal seen, writing
        head = sql.lstrip().upper()
        if head.startswith("BEGIN IMMEDIATE"):
            writing = True
            return
        if not writing:
            return
        if text in sql:
            seen += 1
            if seen == at:
                sys.stderr.write(KILLED_BEFORE + " ".join(sql.split())[:200] + "\n")
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        if head.startswith(("COMMIT", "ROLLBACK")) and not head.startswith("ROLLBACK TO"):
            writing = False

    conn.set_trace_callback(trace)


def killed_before(stderr: str) -> str:
    """The statement the child died before (from its stderr); empty when it did not kill itself."""
    for line in stderr.splitlines():
        if line.startswith(KILLED_BEFORE):
            return line.removeprefix(KILLED_BEFORE)
    return ""
