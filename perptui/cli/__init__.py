"""The `perptui` command line. Every command's job is also available with --json for scripts."""

from __future__ import annotations

import argparse
import sys

from perptui import __version__
from perptui.domain.errors import PerptuiError

from . import cmd_config, cmd_fetch, cmd_import, cmd_markets, cmd_overview
from .output import error_line


class OneLineParser(argparse.ArgumentParser):
    """argparse with a single-line error (what is wrong, where to look) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        error_line(f"{message} (see '{self.prog} --help')", prog=self.prog)
        raise SystemExit(2)


def data_options() -> argparse.ArgumentParser:
    """Options every data command takes after its name."""
    p = OneLineParser(add_help=False)
    g = p.add_argument_group("data source")
    g.add_argument(
        "--exchange", metavar="ID", help="ccxt exchange id (binanceusdm, bybit, okx); demo = built-in"
    )
    g.add_argument("--api-base-url", metavar="URL", help="replace scheme and host of every exchange REST URL")
    g.add_argument("--testnet", action="store_true", default=None, help="use the exchange's testnet")
    g.add_argument(
        "--offline", action="store_true", default=None, help="use the cache only, never the network"
    )
    g.add_argument("--db", metavar="PATH", help="SQLite cache file (default: in the user data dir)")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="perptui",
        description="Terminal tools for small-account traders of crypto perpetual futures. "
        "With no command: an overview of the configured market (the offline demo market by default).",
    )
    parser.add_argument("--version", action="version", version=f"perptui {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=OneLineParser)
    parents = [data_options()]
    cmd_overview.add_parser(sub, parents)
    cmd_markets.add_parser(sub, parents)
    cmd_fetch.add_parser(sub, parents)
    cmd_import.add_parser(sub, parents)
    cmd_config.add_parser(sub, parents)
    parser.set_defaults(handler=cmd_overview.run, symbols=None, json=False, top=cmd_overview.DEFAULT_TOP)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except PerptuiError as exc:
        error_line(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        error_line("interrupted; everything written so far is kept (rerun to resume)")
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
