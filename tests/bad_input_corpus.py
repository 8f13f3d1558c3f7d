"""The bad-input corpus of issue 19: malformed input to every command, and what each must do.

Three parts:

- **the issue's list**, case by case (tiers files with a ``cum`` of -inf, imports that collided with
  stored prints, Unicode digits, values past a float's range, unset shell variables, unknown settings,
  plain-http URLs ...);
- **every flag of every command** with each kind of garbage its type must refuse (read from the parser,
  see ``tests/cli_grammar.py``), and the flags a command checks itself (``--api-base-url``, ``--kind``,
  ``--param``, ``--grid``, ``import --symbol``);
- **values the parser accepts but the command must refuse** (a stop on the wrong side, a withdrawal
  beyond the balance, an order below the market's minimum ...).

A case either must be *refused* (its exit code, one line on stderr naming the input, nothing on stdout,
the cache and the working folder unchanged) or, where the input is partly usable, *kept* (exit 0, a
report saying what was left out, the cache unchanged) or *corrected* (exit 0, a warning, and a check
that what was stored is sound). Never a traceback, never a hang.

Run as a script it starts a process per case, with a time limit, and prints the totals::

    python -m tests.bad_input_corpus [--jobs N] [--only TEXT]

``tests/test_bad_input_corpus.py`` runs the same cases in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.cli_grammar import BAD, GOOD, GRAMMAR, kind_of

FROZEN_AT = "2025-06-01T00:00"
EX = "binanceusdm"
STORED_PRINT = "1577836800000,2020-01-01 00:00:00,BTCUSDT,-0.00012359"  # seeded into the cache
FUNDING_HEADER = "fundingTime,fundingTimeUTC,symbol,fundingRate\n"


@dataclass(frozen=True)
class Case:
    """One malformed input. ``{dir}`` in argv and env values is the case's working folder, where
    ``files`` are written first. ``expect``: refused | kept | corrected."""

    name: str
    argv: tuple[str, ...]
    says: str = ""
    expect: str = "refused"
    code: int = 2
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # text that must appear nowhere in the output (secrets)
    then: tuple[str, ...] = ()  # for "corrected": a command whose output must hold then_says
    then_says: str = ""
    fresh_cache: bool = False  # run on an empty cache instead of the seeded one


def _case(expect: str, line: str | tuple[str, ...], says: str, code: int, name: str | None, **kw) -> Case:
    argv = tuple(shlex.split(line)) if isinstance(line, str) else line
    return Case(
        name or (line if isinstance(line, str) else " ".join(line))[:100], argv, says, expect, code, **kw
    )


def refused(line: str | tuple[str, ...], says: str, *, code: int = 2, name: str | None = None, **kw) -> Case:
    """Input that must be refused: ``line`` is the command line as a shell reads it (or its words)."""
    return _case("refused", line, says, code, name, **kw)


def kept(line: str, says: str, *, name: str | None = None, **kw) -> Case:
    """A file partly usable: the report says what was left out, and the cache is unchanged."""
    return _case("kept", line, says, 0, name, **kw)


def corrected(line: str, says: str, *, name: str | None = None, **kw) -> Case:
    """Input used after a correction the output says (and ``then`` checks)."""
    return _case("corrected", line, says, 0, name, **kw)


# --- the issue's list ------------------------------------------------------------------------------

SIZE = "size --symbol BTC --side long --stop-pct 2 --equity 10000"
BACKTEST = "backtest --strategy carry --symbols BTC --from 2025-03-01 --to 2025-05-01"
IMPORT = f"import --exchange {EX}"
PAPER = "paper order --symbol BTC --side long"
DEEP = "[" * 100_000 + "]" * 100_000
CONFIG_FILE = {"PERPTUI_CONFIG": "{dir}/c.toml"}


def _tiers(cum: str, symbol: str = "BTC/USDT:USDT") -> str:
    rows = [(0, 50_000, 0.004, 125), (50_000, 600_000, 0.005, 100)]
    return json.dumps({symbol: [_tier(*row, cum=cum) for row in rows]})


def _tier(low: float, high: float, mmr: float, leverage: float, cum: str | None = None) -> dict[str, object]:
    tier: dict[str, object] = {"minNotional": low, "maxNotional": high, "maintenanceMarginRate": mmr,
                               "maxLeverage": leverage}  # fmt: skip
    return tier if cum is None else {**tier, "info": {"cum": cum}}


def _problem(**fields: object) -> str:
    good = {"assets": ["A", "B"], "mu": [0.1, 0.05], "cov": [[0.04, 0.0], [0.0, 0.02]]}
    return json.dumps({**good, "objective": "max_utility", **fields})


def _tier_cases() -> list[Case]:
    """Item 1: a tiers file whose ``cum`` is -inf, huge or NaN is imported with the ``cum`` recomputed
    from the brackets, and a 10x long on it has a liquidation price (the seeded ETH market of Binance
    holds only approximate brackets, which real ones replace)."""
    size = f"size --exchange {EX} --offline --symbol ETHUSDT --side long --entry 3000 --stop-pct 2 " \
           "--equity 10000 --leverage 10 --json"  # fmt: skip
    return [
        corrected(f"{IMPORT} --tiers {{dir}}/tiers.json", "recomputed from the brackets",
                  name=f"tiers cum {cum}",
                  files={"tiers.json": _tiers(cum, "ETH/USDT:USDT")}, then=tuple(shlex.split(size)),
                  then_says='"never_liquidated": false')
        for cum in ("-inf", "1e308", "nan", "-5")
    ]  # fmt: skip


def _import_cases() -> list[Case]:
    """Item 2: imports never rewrite history silently nor store garbage names or times."""
    daily = "date,open,high,low,close,volume\n0001-01-01,1,2,0.5,1.5,10\n9999-12-31,1,2,0.5,1.5,10\n"
    names = ("💩/USDT:USDT", "A" * 5000 + "/USDT", "BTC\x00USDT", "BTC/USDT:USDT:USDT")
    garbage_names = "".join(f"1577865600000,x,{name},0.0001\n" for name in names)
    impossible = "".join(
        f"{t},x,BTCUSDT,{r}\n"
        for t, r in [(1577865600000, "nan"), (1577865600000, "inf"), (0, 0.0001), (99999999999999, 0.0001)]
    )
    funding = f"{IMPORT} --funding {{dir}}/BTCUSDT.csv"
    tiers = f"{IMPORT} --tiers {{dir}}/t.json"
    return [
        kept(funding, "1 in conflict with the cache: kept", name="funding colliding with a stored print",
             files={"BTCUSDT.csv": FUNDING_HEADER + "1577836800000,x,BTCUSDT,0.0007\n"}),
        kept(funding, "1 duplicate", name="a file repeating a time",
             files={"BTCUSDT.csv": FUNDING_HEADER + STORED_PRINT + "\n1577836800000,x,BTCUSDT,0.0007\n"}),
        kept(funding, "4 bad", name="funding of NaN, infinity, 1970 and 5138",
             files={"BTCUSDT.csv": FUNDING_HEADER + impossible}),
        kept(f"{IMPORT} --ohlcv {{dir}}/ETHUSDT.csv --timeframe 1d", "2 bad",
             name="daily bars of year 1 and 9999",
             files={"ETHUSDT.csv": daily}),
        kept(f"{IMPORT} --funding {{dir}}/f.csv", "4 bad", name="garbage symbols in a symbol column",
             files={"f.csv": FUNDING_HEADER + garbage_names}),
        kept(tiers, "1 bad", name="tiers keyed by a garbage name",
             files={"t.json": json.dumps({"💩/USDT:USDT": [_tier(0, 10_000, 0.01, 50)]})}),
        kept(tiers, "1 in conflict with the cache: kept", name="tiers that differ from the cached ones",
             files={"t.json": json.dumps({"BTC/USDT:USDT": [_tier(0, 10_000, 0.01, 50)]})}),
        refused("import --exchange nosuch --funding {dir}/BTCUSDT.csv", "unknown exchange 'nosuch'",
                files={"BTCUSDT.csv": FUNDING_HEADER}),
        refused(f"{IMPORT} --funding {{dir}}/bad_BTCUSDT.csv", "does not name a market",
                files={"bad_BTCUSDT.csv": "fundingTime,fundingRate\n1577836800000,0.0001\n"}),
        refused(f"{funding} --symbol 💩", "--symbol: symbol '💩' holds characters",
                files={"BTCUSDT.csv": FUNDING_HEADER}),
        refused(f"{IMPORT} --tiers {{dir}}/deep.json", "nested too deeply", code=1,
                files={"deep.json": DEEP}),
        refused(tiers, "cannot read it as JSON", code=1, name="tiers not JSON", files={"t.json": "{nope"}),
        refused(funding, "BTCUSDT.csv", code=1, name="funding not CSV",
                files={"BTCUSDT.csv": "\x00\x01 binary"}),
        refused(f"{IMPORT} --ohlcv {{dir}}/BTCUSDT.csv", "need --timeframe", files={"BTCUSDT.csv": ""}),
        refused(f"{IMPORT} --funding {{dir}}/nope.csv", "no such file"),
        refused(IMPORT, "nothing to import"),
    ]  # fmt: skip


def _traceback_cases() -> list[Case]:
    """Item 3: inputs that gave Python tracebacks."""
    return [
        refused("size --symbol BTC --side long --stop-atr 2 --atr-timeframe ²h", "bad timeframe"),
        refused(f"{PAPER} --qty 1e308", "--qty"),
        refused("paper cancel 99999999999999999999999", "ids are whole numbers"),
        refused("optimize --input {dir}/deep.json", "nests lists or objects 100,000 deep",
                files={"deep.json": DEEP}),
        refused(f"{BACKTEST} --monte-carlo 1000000000", "--monte-carlo"),
        refused(f"{BACKTEST} --monte-carlo 10 --seed=-1", "--seed"),
        refused("config --init", "/proc/nope/config.toml", name="config --init under /proc",
                env={"PERPTUI_CONFIG": "/proc/nope/config.toml"}),
        corrected("config --json", '"bybit"', name="PERPTUI_SCAN__EXCHANGES=bybit,okx",
                  env={"PERPTUI_SCAN__EXCHANGES": "bybit,okx"}),
        refused("config", "PERPTUI_SCAN__EXCHANGES", name="PERPTUI_SCAN__EXCHANGES with a bad id",
                env={"PERPTUI_SCAN__EXCHANGES": "bybit,no such"}),
        refused("config", "PERPTUI_KEYMAP", name="PERPTUI_KEYMAP='not json'",
                env={"PERPTUI_KEYMAP": "not json"}),
        refused("config", "PERPTUI_RISK", name="PERPTUI_RISK=nope", env={"PERPTUI_RISK": "nope"}),
        refused(SIZE, "max_leverage", name="PERPTUI_RISK__MAX_LEVERAGE=nan",
                env={"PERPTUI_RISK__MAX_LEVERAGE": "nan"}),
    ]  # fmt: skip


def _accepted_cases() -> list[Case]:
    """Item 4: garbage that was accepted with exit 0."""
    hundred = ",".join(str(i) for i in range(1, 101))
    grid = f"--grid ma_fast={hundred} --grid top_n={hundred} --grid leverage_cap={hundred}"
    return [
        refused(f"{BACKTEST} --capital 1e308", "--capital"),
        refused(f"{BACKTEST} --param leverage_cap=1e308", "leverage_cap=1e308 is not accepted"),
        refused("allocate --capital 1e-9", "--capital"),
        refused("optimize --input {dir}/p.json", "mu[0] is 1e+308", name="optimize mu 1e308",
                files={"p.json": _problem(mu=[1e308, 0.05])}),
        refused("paper fills --limit 0", "--limit"),
        refused("paper fills --limit=-1", "--limit"),
        refused("paper fills --limit 99999999999999999999999", "--limit"),
        refused("scan --symbols ''", "names no market"),
        refused(f"{BACKTEST} --ledger ''", "--ledger is empty"),
        refused("backtest --strategy carry --from ''", "--from is empty"),
        refused("size --symbol BTC/USDT:USDT:USDT --side long --stop-pct 2", "is not a market's name"),
        refused("markets --testnet", "--testnet needs an exchange"),
        refused("allocate --offline", "the cache holds no markets", code=1, fresh_cache=True,
                name="allocate --offline on an empty cache"),
        refused(f"{BACKTEST} {grid}", "above the limit of 1,000", name="--grid of 10^6 sets"),
        refused(f"{BACKTEST} --workers 1000000", "--workers"),
        refused("fetch --symbols BTC --since 2025-05-01 --timeframe 7m", "the demo market has no 7m bars"),
        refused("config", "PERPTUI_BOGUS", name="PERPTUI_BOGUS=1", env={"PERPTUI_BOGUS": "1"}),
        refused("config", "bogus", name="PERPTUI_RISK__BOGUS=1", env={"PERPTUI_RISK__BOGUS": "1"}),
        refused("config", "nope.toml", name="PERPTUI_CONFIG naming no file",
                env={"PERPTUI_CONFIG": "{dir}/nope.toml"}),
        refused("config", "nosuch", name="an unknown [keymap] id", env=CONFIG_FILE,
                files={"c.toml": '[keymap]\nnosuch = "z"\n'}),
        refused("config", "withdraw", name="deposit = 'w' takes withdraw's key", env=CONFIG_FILE,
                files={"c.toml": '[keymap]\ndeposit = "w"\n'}),
        refused("config", "c.toml", name="a config file that is not TOML", env=CONFIG_FILE,
                files={"c.toml": "[risk\nnope"}),
        refused("config", "max_leverage", name="a config value of the wrong type", env=CONFIG_FILE,
                files={"c.toml": '[risk]\nmax_leverage = "lots"\n'}),
    ]  # fmt: skip


def _security_cases() -> list[Case]:
    """Item 5: URLs that would send keys in the clear; credentials never shown."""
    secret = "https://user:hunter2@relay.example/binance"
    return [
        refused(f"markets --exchange {EX} --api-base-url http://relay.example", "http://"),
        refused("config", "http://", name="api_base_url = http://... in the config", env=CONFIG_FILE,
                files={"c.toml": 'api_base_url = "http://relay.example"\n'}),
        refused("config", "http://", name="PERPTUI_API_BASE_URL=http://...",
                env={"PERPTUI_API_BASE_URL": "http://relay.example"}),
        corrected("config", "relay.example", name="credentials in a configured URL are masked",
                  env={"PERPTUI_API_BASE_URL": secret}, absent=("hunter2",)),
        refused(f"markets --exchange {EX} --api-base-url http://user:hunter2@relay.example", "http://",
                name="credentials in a refused URL are masked", absent=("hunter2",)),
        refused("markets --api-base-url https://relay.example", "--api-base-url needs an exchange"),
    ]  # fmt: skip


# --- every flag of every command ----------------------------------------------------------------------

#: The flags a command reads itself (no argparse type): garbage for each.
SELF_CHECKED: dict[str, list[str]] = {
    "--api-base-url": [
        "",
        " ",
        "ftp://relay.example",
        "not a url",
        "https://",
        "http://relay.example",
        "https://relay.example:99999",
        "https://\x00",
    ],
    "--kind": ["", "nope", "funding,nope", "💩"],
    "--param": [
        "",
        "x",
        "=1",
        "nope=1",
        "leverage_cap=",
        "leverage_cap=nan",
        "leverage_cap=1e308",
        "top_n=١",
        "top_n=-1",
    ],
    "--grid": ["", "x", "nope=1,2", "leverage_cap=", "leverage_cap=1,nan", "top_n=1,1e308"],
    "--symbol": ["", "💩", "BTC/USDT:USDT:USDT", "A" * 5000, "BTC\x00"],
}

#: Options a command needs (else argparse would refuse for a missing one, whatever the garbage).
REQUIRED: dict[str, tuple[str, ...]] = {
    "size": ("--symbol", "BTC", "--side", "long", "--stop-pct", "2"),
    "paper order": ("--symbol", "BTC", "--side", "long", "--qty", "0.01"),
    "paper spot": ("--symbol", "BTC", "--side", "buy", "--qty", "0.01"),
    "paper carry open": ("--symbol", "BTC", "--qty", "0.01"),
    "fetch": ("--symbols", "BTC", "--since", "2025-05-01"),
    "backtest": ("--strategy", "carry", "--symbols", "BTC", "--from", "2025-03-01", "--to", "2025-05-01"),
    "optimize": ("--input", "{dir}/p.json"),
    "import": ("--exchange", EX, "--funding", "{dir}/BTCUSDT.csv"),
    "alerts add": ("--kind", "funding_z", "--threshold", "3"),
    "order": ("--symbol", "BTC", "--side", "long", "--qty", "0.01", "--stop", "50000"),
    "orders move": ("--to", "50000"),
}


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)
    ]


def _good(action: argparse.Action) -> str:
    kind = kind_of(action)
    if kind == "choice":
        return str(next(iter(action.choices or ())))
    return GOOD[kind or "text"]


def _flag_cases() -> Iterator[Case]:
    """Each value-taking flag and positional of each command, with each garbage of its kind."""
    files = {"p.json": _problem(), "BTCUSDT.csv": FUNDING_HEADER + STORED_PRINT + "\n"}
    for path, parser in GRAMMAR:
        if any(isinstance(a, argparse._SubParsersAction) and a.required for a in parser._actions):
            continue  # a group that needs an action ("paper carry"): its actions take the same flags
        command = " ".join(path)
        required = REQUIRED.get(command, ())
        positionals = _positionals(parser)
        for action in parser._actions:
            if isinstance(
                action, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction
            ):
                continue
            if action.nargs == 0:
                continue
            kind = kind_of(action)
            flag = action.option_strings[-1] if action.option_strings else None
            garbage = BAD[kind] if kind is not None else SELF_CHECKED.get(flag or "", [])
            for value in garbage:
                args = list(path)
                for other in positionals:
                    args.append(value if other is action else _good(other))
                skip = {flag} if flag else set()
                for i in range(0, len(required), 2):
                    if required[i] not in skip:
                        args += required[i : i + 2]
                if flag:
                    args.append(f"{flag}={value}")
                label = flag or str(action.metavar or action.dest)
                # A positional starting with "-" reads as an unknown option: named by its value then.
                says = label if flag or not value.startswith("-") else f"{label} | {value}"
                yield refused(tuple(args), says, name=f"{command} {label}={value[:20]!r}", files=files)


# --- accepted by the parser, refused by the command -------------------------------------------------------


def _command_cases() -> list[Case]:
    sizing = "size --symbol BTC --side long"
    problem = "optimize --input {dir}/p.json"
    return [
        refused(f"{sizing} --entry 100 --stop 110", "a long's stop goes below it"),
        refused("size --symbol BTC --side short --entry 100 --stop 90", "a short's stop goes above it"),
        refused(f"{sizing} --stop-pct 0", "--stop-pct"),
        refused(f"{sizing} --stop-pct 100", "--stop-pct"),
        refused(f"{SIZE} --risk-pct 0", "--risk-pct"),
        refused(f"{SIZE} --risk-pct 150", "--risk-pct"),
        refused(f"{SIZE} --leverage 0", "--leverage"),
        refused(f"{SIZE} --leverage 1e308", "--leverage"),
        refused(f"{sizing} --stop-pct 2 --equity 0", "--equity"),
        refused(f"{sizing} --stop-pct 2 --equity=-5", "--equity"),
        refused(f"{SIZE} --risk-pct 1 --risk-usd 100", "not allowed with"),
        refused(f"{SIZE} --stop 100", "not allowed with"),
        refused("size --symbol NOPE --side long --stop-pct 2", "unknown symbol 'NOPE'"),
        refused("account deposit 0", "AMOUNT"),
        refused("account deposit -- -5", "AMOUNT"),
        refused("account --offline withdraw 100000000", "withdraw"),
        refused(f"{PAPER} --qty 0", "--qty"),
        refused("paper --offline order --symbol BTC --side long --qty 0.0000001", "minimum"),
        refused(f"{PAPER} --qty 0.01 --price=-5", "--price"),
        refused("paper --offline close SOL", "no open"),
        refused("paper --offline cancel 424242", "no paper order #424242"),
        refused("paper reset-breaker", "--yes"),
        refused("alerts add --kind no_stop --threshold 5", "--threshold: a no_stop rule takes none"),
        refused("alerts add --kind liq_distance_pct", "--threshold: a liq_distance_pct rule needs one"),
        refused("alerts add --kind liq_distance_pct --threshold 150", "up to 100%"),
        refused("alerts add --kind price_above --threshold 70000", "--symbol: a price_above rule needs"),
        refused("alerts add --kind no_stop --id no-stop", "a rule 'no-stop' exists"),
        refused("alerts remove no-stop", "mute it instead"),
        refused("alerts remove nope", "no alert rule 'nope'"),
        refused("alerts mute nope", "no alert rule 'nope'"),
        refused("fetch --symbols BTC --since 2025-05-02 --until 2025-05-01", "--since"),
        refused("backtest --strategy carry --from 2025-05-01 --to 2025-03-01", "must be before --to"),
        refused(f"{BACKTEST} --walk-forward", "--walk-forward needs --grid"),
        refused(f"{BACKTEST} --stress 2024-02-01:2024-01-01", "--stress"),
        refused("allocate --neutral-pct 150", "--neutral-pct"),
        refused(problem, "p.json", name="optimize a file that is not JSON", files={"p.json": "{nope"}),
        refused(problem, "cov", name="optimize a covariance that is not symmetric",
                files={"p.json": _problem(cov=[[0.04, 0.01], [0.0, 0.02]])}),
        refused(problem, "mu", name="optimize mu of the wrong length", files={"p.json": _problem(mu=[0.1])}),
        refused(problem, "objective", name="optimize an unknown objective",
                files={"p.json": _problem(objective="moon")}),
        refused("optimize --input {dir}/nope.json", "nope.json"),
        refused("scan --sort nope", "--sort"),
        refused("markets --symbols NOPE", "NOPE"),
        refused("markets --db {dir}", "is a folder"),
        refused("markets --db {dir}/f/cache.db", "is a file, not a folder", files={"f": ""}),
        refused("markets --db {dir}/junk.db", "junk.db", code=1, files={"junk.db": "not a database" * 100}),
    ]  # fmt: skip


def issue_cases() -> list[Case]:
    return _tier_cases() + _import_cases() + _traceback_cases() + _accepted_cases() + _security_cases()


def all_cases() -> list[Case]:
    return issue_cases() + _command_cases() + list(_flag_cases())


# --- the cache and each case's folder -----------------------------------------------------------------


def base_env(root: Path, db: Path) -> dict[str, str]:
    """The environment of every case: the seeded cache, a frozen demo clock, user folders under
    ``root`` (nothing reaches the real user's), and an empty config file."""
    config = root / "empty.toml"
    config.touch()
    return {
        "PERPTUI_DB": str(db),
        "PERPTUI_DEMO__FROZEN_AT": FROZEN_AT,
        "PERPTUI_CONFIG": str(config),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "HOME": str(root / "home"),
    }


SEED = [
    ["markets", "--json"],
    ["fetch", "--symbols", "BTC", "ETH", "--since", "2025-05-25", "--json"],
    ["paper", "order", "--symbol", "BTC", "--side", "long", "--qty", "0.01", "--json"],
    ["import", "--exchange", EX, "--funding", "{dir}/BTCUSDT.csv", "--tiers", "{dir}/tiers.json", "--json"],
]


def seed_cache(root: Path) -> Path:
    """A small cache as a trader's would be: the demo's markets, a week of BTC and ETH history, a paper
    position, and a Binance funding print and tiers imported from files."""
    db = root / "seed.db"
    work = root / "seed"
    work.mkdir(parents=True, exist_ok=True)
    (work / "BTCUSDT.csv").write_text(FUNDING_HEADER + STORED_PRINT + "\n")
    (work / "tiers.json").write_text(_tiers("0"))
    env = base_env(root, db)
    for argv in SEED:
        code, _, err = run_in_process([a.replace("{dir}", str(work)) for a in argv], env, work)
        if code != 0:
            raise RuntimeError(f"seeding the corpus cache: {' '.join(argv)}: {err}")
    _seed_binance_eth(db)
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _seed_binance_eth(db: Path) -> None:
    """Binance's ETH perp as its exchangeInfo lists it, with the approximate brackets perptui stores for
    a market the exchange served none for (a tiers file's real ones replace them)."""
    from perptui.domain.types import Market
    from perptui.services.store import Store

    eth = Market(
        EX,
        "ETH/USDT:USDT",
        "ETHUSDT",
        "ETH",
        "USDT",
        "USDT",
        amount_step=0.001,
        price_tick=0.01,
        min_qty=0.001,
        min_notional=20.0,
        taker_fee=0.0005,
        maker_fee=0.0002,
        max_leverage=125.0,
    )
    with Store.open(db) as store:
        store.upsert_markets(EX, [eth], 1_748_736_000_000)


#: What any online command refreshes, whatever its input: quotes, and when a snapshot was fetched.
REFRESHED_TABLES = {"tickers"}
REFRESHED_COLUMNS = {"fetched_at"}


def content_digest(db: Path) -> str:
    """The cache's contents (not its bytes: opening it may checkpoint the WAL or refresh statistics),
    less what every online command refreshes (the quotes and the snapshot times): the markets, tiers,
    history, paper ledger and settings, which refused input must leave as they were."""
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        tables = [
            r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            if table.startswith("sqlite_") or table in REFRESHED_TABLES:
                continue
            columns = [
                r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in REFRESHED_COLUMNS
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            digest.update(f"{table}({listed})".encode())
            for row in con.execute(f"SELECT {listed} FROM {table} ORDER BY {listed}"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


def folder_listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    cache_changed: bool = False
    folder_changed: bool = False
    hung: bool = False
    then_out: str = ""


def problems(case: Case, got: Outcome) -> list[str]:
    """What the case did wrong; empty when it did what it must."""
    found: list[str] = []
    if got.hung:
        return ["hung"]
    text = got.out + got.err
    if "Traceback" in text:
        found.append("traceback")
    if case.expect == "refused":
        if got.code == 0:
            found.append("garbage accepted (exit 0)")
        elif got.code != case.code:
            found.append(f"exit {got.code}, not {case.code}")
        if got.out:
            found.append("printed on stdout")
        lines = got.err.strip().splitlines()
        if len(lines) != 1:
            found.append(f"{len(lines)} lines on stderr, not 1")
    elif got.code != 0:
        found.append(f"exit {got.code}, not 0")
    flat = " ".join(text.split())
    if case.says and not any(alternative in flat for alternative in case.says.split(" | ")):
        found.append(f"does not say {case.says!r}")
    if case.expect in ("refused", "kept") and got.cache_changed:
        found.append("changed the cache")
    if case.expect == "refused" and got.folder_changed:
        found.append("wrote into the working folder")
    for secret in case.absent:
        if secret in text:
            found.append(f"showed {secret!r}")
    if case.then and case.then_says not in got.then_out:
        found.append(f"then: {' '.join(case.then)} does not say {case.then_says!r}")
    return found


# --- running ----------------------------------------------------------------------------------------


def run_in_process(argv: list[str], env: Mapping[str, str], cwd: Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``perptui ARGV`` in this process, with ``env`` set."""
    import perptui.cli as cli

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    old_cwd = Path.cwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # a crash is what the corpus looks for
                import traceback

                traceback.print_exc()
                code = 1
    finally:
        os.chdir(old_cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def run_in_subprocess(
    argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float
) -> tuple[int, str, str]:
    """The same in a new process; a run past ``timeout`` seconds is a hang (exit -1)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "perptui", *argv],
            env={**os.environ, "COLUMNS": "100", **env},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return -1, "", ""
    return done.returncode, done.stdout, done.stderr


def run_case(case: Case, root: Path, seed: Path, seed_digest: str, runner) -> Outcome:
    """Run one case in its own folder on its own copy of the seeded cache."""
    work = Path(tempfile.mkdtemp(dir=root, prefix="case-"))
    for name, content in case.files.items():
        (work / name).write_text(content, encoding="utf-8", errors="surrogateescape")
    db = work.parent / f"{work.name}.db"
    if not case.fresh_cache:
        shutil.copyfile(seed, db)
    env = base_env(root, db)
    env.update({k: v.replace("{dir}", str(work)) for k, v in case.env.items()})
    before = folder_listing(work)
    argv = [a.replace("{dir}", str(work)) for a in case.argv]
    code, out, err = runner(argv, env, work)
    got = Outcome(code, out, err, hung=code == -1)
    if not case.fresh_cache:
        got.cache_changed = seed.read_bytes() != db.read_bytes() and content_digest(db) != seed_digest
    got.folder_changed = folder_listing(work) != before
    if case.then and code == 0:
        _, got.then_out, _ = runner(list(case.then), env, work)
    shutil.rmtree(work, ignore_errors=True)
    for leftover in work.parent.glob(f"{work.name}.db*"):
        leftover.unlink()
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the bad-input corpus, a process per case.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="cases whose name holds this text")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a case counts as a hang")
    parser.add_argument("--in-process", action="store_true", help="no process per case (fast; no hang limit)")
    args = parser.parse_args(argv)
    cases = [c for c in all_cases() if args.only in c.name]
    if not args.in_process:  # no process can be handed a NUL byte in its arguments or environment
        with_nul = [c for c in cases if any("\x00" in a for a in (*c.argv, *c.env.values()))]
        cases = [c for c in cases if c not in with_nul]
        print(f"{len(with_nul)} cases with a NUL byte run in-process only")
    with tempfile.TemporaryDirectory(prefix="perptui-corpus-") as tmp:
        root = Path(tmp)
        seed = seed_cache(root)
        digest = content_digest(seed)

        def one(case: Case) -> tuple[Case, list[str]]:
            def runner(a, e, c):
                if args.in_process:
                    return run_in_process(a, e, c)
                return run_in_subprocess(a, e, c, args.timeout)

            return case, problems(case, run_case(case, root, seed, digest, runner))

        with ThreadPoolExecutor(1 if args.in_process else args.jobs) as pool:
            results = list(pool.map(one, cases))
    totals = {"traceback": 0, "garbage accepted": 0, "hung": 0, "changed the cache": 0}
    failed = 0
    for case, found in results:
        if found:
            failed += 1
            print(f"FAIL {case.name}: {'; '.join(found)}")
        for key in totals:
            totals[key] += any(f.startswith(key) for f in found)
    print(f"{len(cases)} cases, {failed} failed: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
