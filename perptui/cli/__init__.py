"""The `perptui` command line. Every command's job is also available with --json for scripts."""

from __future__ import annotations

import sys

from perptui.domain.errors import PerptuiError

from .output import error_line
from .parser import build_parser, handler_for


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return handler_for(args)(args)
    except PerptuiError as exc:
        error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error_line("interrupted; everything written so far is kept (rerun to resume)")
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
