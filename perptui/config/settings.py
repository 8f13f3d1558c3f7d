"""The settings model: one docstring per field (shown by ``perptui config`` and in the default file).

Precedence, highest first: CLI flags > environment (``PERPTUI_`` prefix, ``__`` for nesting, e.g.
``PERPTUI_DEMO__SEED``) > the TOML config file > these defaults. Load through
:func:`perptui.config.loader.load_settings`, which turns every bad value into a one-line ConfigError.
"""

from __future__ import annotations

import json
import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from perptui.config.urls import BASE_URL_FORM, base_url_problem, is_insecure_url, mask_url
from perptui.domain.alerts.rules import AlertRule, merge_rules, parse_quiet_hours
from perptui.domain.errors import ConfigError
from perptui.domain.retention import Retention
from perptui.domain.timeframes import parse_utc

_EXCHANGE_ID_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")
_EXCHANGES_ACCEPTED = (
    'use ccxt exchange ids: a list such as ["bybit", "okx"], or "bybit,okx" in the environment'
)

#: The parsed config file, handed to the settings sources by the loader for one load.
_file_values: ContextVar[dict[str, Any] | None] = ContextVar("perptui_file_values", default=None)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DemoSettings(Section):
    seed: int = Field(default=7, ge=0)
    """Seed of the built-in demo market: the same seed and clock always give the same data."""

    frozen_at: str | None = None
    """Freeze the demo market's clock at this UTC time (e.g. "2025-06-01T00:00"); unset = real time."""

    @field_validator("frozen_at")
    @classmethod
    def _check_time(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_utc(value)
            except Exception:
                raise ValueError("use an ISO UTC time such as 2025-06-01T00:00") from None
        return value

    def frozen_at_ms(self) -> int | None:
        return None if self.frozen_at is None else parse_utc(self.frozen_at)


class NetworkSettings(Section):
    timeout_ms: int = Field(default=10_000, ge=1_000, le=120_000)
    """Timeout of one exchange request, in milliseconds (1000 to 120000)."""

    max_retries: int = Field(default=4, ge=0, le=10)
    """Retries of a request that failed on the network, a rate limit, a timeout, a busy exchange or an
    unreadable answer (0 to 10)."""

    backoff_s: float = Field(default=0.5, gt=0, le=30)
    """First wait before a retry, in seconds; each further retry waits twice as long."""

    deadline_s: float = Field(default=15.0, gt=0, le=600)
    """Longest wait for the exchange's answer to one command or one refresh of a pane, retries
    included, in seconds (up to 600); after it the cache stands in, with its age said."""

    allow_insecure: bool = False
    """Allow a plain http:// api_base_url to a host other than this machine (keys and orders would travel
    unencrypted); http:// to localhost, 127.0.0.0/8 or ::1 is always allowed."""


class PaperSettings(Section):
    starting_capital: float = Field(default=5_000.0, gt=0, le=1e9)
    """Opening balance of the paper account, in the settle currency (USDT), when it is first created."""

    slippage_bps: float = Field(default=5.0, ge=0, lt=1000)
    """Slippage of paper market orders, stops and take-profits, in basis points of the mark, always against
    the trader (5 = 0.05%). Resting limit orders fill at their price, without slippage."""

    taker_fee_pct: float = Field(default=0.05, ge=0, lt=1)
    """Taker fee in percent (0.05 = 0.05%) for paper fills on a market that does not publish its own."""

    maker_fee_pct: float = Field(default=0.02, ge=0, lt=1)
    """Maker fee in percent for resting limit fills on a market that does not publish its own."""

    leverage: float | None = Field(default=None, ge=1, le=200)
    """Leverage of a new paper position when the order gives none; unset = auto, the lowest whole leverage
    whose initial margin and fee fit in the free margin."""

    margin_mode: Literal["isolated", "cross"] = "isolated"
    """Margin mode of a new paper position when the order gives none: isolated or cross."""

    catch_up_timeframe: Literal["1m", "5m", "15m", "1h"] = "5m"
    """Candles used on start-up to settle the stops, take-profits, limits and liquidations that fell due
    while perptui was not running (fetched for the open positions when online; else the cached ones)."""

    catch_up_days: float = Field(default=30.0, gt=0, le=365)
    """How far back start-up catch-up fetches history for the open positions, in days."""

    @field_validator("leverage", mode="before")
    @classmethod
    def _auto_leverage(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "auto"):
            return None
        return value


class RiskSettings(Section):
    risk_pct: float = Field(default=1.0, gt=0, le=100)
    """Risk per trade as a percent of equity (1 = 1%); the account pane can change it."""

    max_risk_pct: float = Field(default=2.0, gt=0, le=100)
    """The most a single trade may risk, as a percent of equity; more is warned about."""

    daily_loss_limit_pct: float = Field(default=5.0, ge=0, le=100)
    """Daily loss limit in percent of the equity at 00:00 UTC (deposits and withdrawals excluded). Hitting
    it trips the circuit breaker: new paper orders are refused until the next UTC day or a reset. A reset
    re-arms it: for the rest of the day losses are measured from the equity at the reset. 0 = off."""

    max_drawdown_pct: float = Field(default=15.0, ge=0, le=100)
    """Maximum drawdown from the equity peak (after a reset, the peak since the reset), in percent.
    Hitting it trips the circuit breaker. 0 = off."""

    breaker_limit_orders: Literal["cancel", "hold"] = "cancel"
    """What a trip of the circuit breaker does to resting paper limit orders that would open or add:
    "cancel" them (each with the reason), or "hold" them (they stay but do not fill while it is
    tripped). Reduce-only limits are kept either way."""

    max_leverage: float = Field(default=5.0, ge=0, le=200)
    """Maximum effective leverage (gross position notional / equity); more raises an alert. 0 = off."""

    min_liq_distance_pct: float = Field(default=10.0, ge=0, le=100)
    """Minimum distance from the mark to a position's liquidation price, in percent; closer raises an
    alert. 0 = off."""

    max_margin_ratio_pct: float = Field(default=50.0, ge=0, le=100)
    """Maximum margin ratio (maintenance margin / margin balance) in percent; 100% is liquidation. More
    raises an alert. 0 = off."""

    warn_at_pct: float = Field(default=80.0, gt=0, le=100)
    """A warning is raised once a value has used this percent of its limit (80 = 80% of the way there)."""

    alert_no_stop: bool = True
    """Alert for an open paper position without a stop-loss (the exchange's positions are checked only with
    live trading on, which reads their stop orders back)."""


class SizingSettings(Section):
    margin_mode: Literal["isolated", "cross"] = "isolated"
    """Margin mode the sizing calculator starts with: isolated or cross."""

    leverage: float | None = Field(default=None, ge=1, le=200)
    """Leverage the calculator starts with; unset = auto, the lowest whole leverage the margin allows."""

    slippage_bps: float = Field(default=5.0, ge=0, lt=1000)
    """Slippage allowance at the stop, in basis points of the stop price (5 = 0.05%)."""

    atr_period: int = Field(default=14, ge=1, le=500)
    """Bars in the ATR used by ATR stops (Wilder's smoothing)."""

    atr_timeframe: Literal["1m", "5m", "15m", "1h", "4h", "8h", "1d"] = "1h"
    """Timeframe of the candles the ATR is computed from."""

    funding_warn_apr_pct: float = Field(default=20.0, ge=0, le=10_000)
    """Warn when funding against a position costs more than this, in percent a year (20 = 20%)."""

    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    """Share of the Kelly fraction the Kelly helper suggests (0.5 = half Kelly)."""

    @field_validator("leverage", mode="before")
    @classmethod
    def _auto_leverage(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "auto"):
            return None
        return value


class ScanSettings(Section):
    refresh_s: float = Field(default=30.0, ge=5, le=3600)
    """Seconds between two refreshes of the current funding rates while the scanner is shown."""

    hold_days: float = Field(default=30.0, gt=0, le=3650)
    """Holding period of a cash-and-carry trade, in days: its round-trip cost is spread over it."""

    borrow_apr_pct: float = Field(default=10.0, ge=0, le=1000)
    """Yearly cost of borrowing spot to short it (negative-funding carry), in percent."""

    spot_taker_fee_pct: float = Field(default=0.1, ge=0, lt=1)
    """Taker fee of the spot leg of a carry trade, in percent (0.1 = 0.1%, Binance's base spot fee)."""

    spot_maker_fee_pct: float = Field(default=0.1, ge=0, lt=1)
    """Maker fee of a spot limit order that rests before it fills, in percent (Binance's base: 0.1)."""

    slippage_bps: float = Field(default=10.0, ge=0, lt=1000)
    """Slippage of a carry round trip (all four fills together), in basis points of the notional."""

    min_volume_usd: float = Field(default=0.0, ge=0)
    """Hide perps whose 24h quote volume is below this (0 shows all)."""

    min_apr_pct: float = Field(default=0.0, ge=0)
    """Hide perps whose |funding APR| is below this, in percent (0 shows all)."""

    exchanges: Annotated[list[str], NoDecode] = []
    """Other ccxt exchange ids to compare funding with in the cross-exchange view, e.g. ["bybit", "okx"]."""

    @field_validator("exchanges", mode="before")
    @classmethod
    def _split_exchanges(cls, value: object) -> object:
        """A list, a JSON list or comma-separated ids (``PERPTUI_SCAN__EXCHANGES=bybit,okx``)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError(_EXCHANGES_ACCEPTED) from None
            else:
                value = [part for part in text.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            return value  # pydantic's own "valid list" error
        ids = []
        for item in value:
            if not isinstance(item, str) or not _EXCHANGE_ID_RE.fullmatch(item.strip().lower()):
                raise ValueError(_EXCHANGES_ACCEPTED)
            ids.append(item.strip().lower())
        return ids


class PlanSettings(Section):
    neutral_pct: float = Field(default=70.0, ge=0, le=100)
    """Share of capital for the market-neutral funding base, in percent."""

    directional_pct: float = Field(default=30.0, ge=0, le=100)
    """Share of capital for the directional trend layer, in percent; with neutral_pct it makes 100."""

    universe_size: int = Field(default=10, ge=1, le=100)
    """Directional layer: the N most liquid perps (24h volume) with enough history."""

    neutral_count: int = Field(default=5, ge=0, le=50)
    """Neutral base: at most this many spot + perp carry pairs."""

    min_carry_apr_pct: float = Field(default=5.0, ge=-100, le=1000)
    """A carry pair must net at least this APR, in percent, after fees and slippage over scan.hold_days."""

    objective: Literal["max_utility", "min_variance", "max_sharpe", "efficient_risk", "efficient_return"] = (
        "max_utility"
    )
    """Objective of the directional layer's optimiser."""

    risk_aversion: float = Field(default=2.0, gt=0, le=1000)
    """Risk aversion delta of max_utility (mu'w - delta/2 w'Sigma w)."""

    leverage_cap: float = Field(default=3.0, gt=0, le=20)
    """Gross exposure cap of the directional layer, as a multiple of its capital."""

    max_weight_pct: float = Field(default=50.0, gt=0, le=100)
    """Per-asset cap of the directional layer, in percent of its leverage budget (leverage_cap)."""

    vol_target_pct: float = Field(default=30.0, gt=0, le=500)
    """Yearly volatility target (cap) of the directional layer, in percent."""

    lookback_days: Literal[7, 30, 90] = 30
    """Days of history for the covariance, the mean funding and the carry: 7, 30 or 90."""

    timeframe: Literal["1h", "4h", "8h", "1d"] = "1d"
    """Bars of the directional signals and the covariance: 1h, 4h, 8h or 1d."""

    regime_k: float = Field(default=2.0, gt=0, le=100)
    """Scale the directional layer down when realised volatility exceeds this multiple of its median."""

    regime_zero_at: float = Field(default=3.0, gt=0, le=100)
    """... linearly, down to nothing at this multiple."""

    @model_validator(mode="after")
    def _sums_to_100(self) -> PlanSettings:
        if abs(self.neutral_pct + self.directional_pct - 100) > 1e-9:
            total = self.neutral_pct + self.directional_pct
            raise ValueError(f"neutral_pct + directional_pct must make 100, not {total:g}")
        if self.regime_zero_at <= self.regime_k:
            raise ValueError(
                f"regime_zero_at ({self.regime_zero_at:g}) must be above regime_k ({self.regime_k:g})"
            )
        return self


class UiSettings(Section):
    theme: Literal["dark", "light"] = "dark"
    """Colour theme: dark or light."""

    refresh_s: float = Field(default=2.0, ge=0.5, le=3600)
    """Seconds between two refreshes of live prices and balances (0.5 to 3600)."""


class CacheSettings(Section):
    tickers_full_hours: int = Field(default=24, ge=1, le=24 * 365)
    """Hours the ticker snapshots the app, the scanner and the paper engine write are kept whole (one a
    minute from the app); older ones are thinned to one an hour."""

    tickers_hourly_days: int = Field(default=30, ge=1, le=3650)
    """Days the hourly ticker snapshots are kept; older ones are dropped (funding prints and OHLCV bars,
    the history the statistics and backtests need, are always kept)."""

    equity_full_days: int = Field(default=7, ge=1, le=3650)
    """Days the account's equity snapshots are kept whole; older ones are thinned to the first, last,
    lowest and highest of each hour (the chart and the drawdown keep their shape)."""

    events_days: int = Field(default=365, ge=1, le=36500)
    """Days of the risk event log (alerts, breaker trips and resets, liquidations) and of the history of
    alert notifications kept."""

    events_max: int = Field(default=10_000, ge=100, le=10_000_000)
    """The most risk events kept, and the most alert notifications (the oldest go first; the last day's
    are always kept)."""

    @model_validator(mode="after")
    def _hourly_outlasts_whole(self) -> CacheSettings:
        if self.tickers_hourly_days * 24 < self.tickers_full_hours:
            raise ValueError("tickers_hourly_days must cover at least tickers_full_hours")
        return self

    def retention(self) -> Retention:
        hour, day = 3_600_000, 86_400_000
        return Retention(
            tickers_full_ms=self.tickers_full_hours * hour,
            tickers_hourly_ms=self.tickers_hourly_days * day,
            equity_full_ms=self.equity_full_days * day,
            events_max_age_ms=self.events_days * day,
            events_max_count=self.events_max,
        )


class TradingSettings(Section):
    live: bool = False
    """Allow live orders on the exchange (the sizing pane's o, perptui order, perptui orders close/kill).
    Also needs API keys with trade permission and account = "exchange". Try it with testnet = true first."""

    allow_yes: bool = False
    """Let perptui order --yes place a live order without asking (scripts). Off: every live order is
    confirmed by typing its symbol or y."""

    order_retries: int = Field(default=2, ge=0, le=5)
    """Times an order is sent again after the exchange's answer was lost AND two look-ups by its client
    order id, a pause apart, found it absent (0 to 5). An order found on the exchange is never sent again."""

    stop_retries: int = Field(default=3, ge=0, le=10)
    """Tries of the stop-loss after the entry filled, before perptui raises a critical alert and offers to
    close the position (0 to 10)."""

    lookup_attempts: int = Field(default=4, ge=1, le=20)
    """Look-ups by client order id after a lost answer, before the order is reported as unknown (1 to 20)."""

    trigger: Literal["mark", "last"] = "mark"
    """Price the stop-loss and take-profits trigger on: the mark price (as liquidation and the paper
    engine) or the last traded price."""


def _urls(value: object) -> object:
    """A list of URLs, a JSON list, or one URL (``PERPTUI_ALERTS__NOTIFY=ntfy://ntfy.sh/topic``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError("not a JSON list of URLs; give one URL or a list of them") from None
        else:
            value = [text] if text else []
    if isinstance(value, list | tuple):
        for item in value:
            text = item.get_secret_value() if isinstance(item, SecretStr) else item
            if not isinstance(text, str) or "://" not in text or any(ord(c) < 32 for c in text):
                raise ValueError('each target is an Apprise URL such as "ntfy://ntfy.sh/my-topic"')
    return value


_NotifyUrls = Annotated[list[SecretStr], NoDecode]


class AlertsSettings(Section):
    enabled: bool = True
    """Watch the alert rules (in the app and in perptui watch); false = no alerts at all."""

    notify: _NotifyUrls = []
    """Where alerts of every severity are sent: Apprise URLs, e.g. ["ntfy://ntfy.sh/my-topic",
    "tgram://bottoken/chatid"]. They are secrets (tokens live in them): masked wherever shown."""

    notify_critical: _NotifyUrls = []
    """More targets for critical alerts only (added to notify)."""

    notify_warning: _NotifyUrls = []
    """More targets for warnings only (added to notify)."""

    notify_info: _NotifyUrls = []
    """More targets for info alerts only (added to notify)."""

    desktop: bool = False
    """Also show alerts as desktop notifications of this machine."""

    rules: list[dict[str, Any]] = []
    """Alert rules, each a table with id, kind, threshold, symbol (severity, cooldown_s, quiet_hours and
    muted optional). Kinds: liq_distance_pct, liq_distance_sigma, margin_ratio (percent), no_stop,
    stop_filled, take_profit_filled, price_above, price_below, daily_loss_pct, drawdown_pct, breaker,
    funding_flip, funding_z, funding_apr, carry_predicted_against, carry_below_breakeven, stale_data_min
    (minutes), unreachable. On by default: liq-distance (below 5%), no-stop, breaker (critical) and
    stale-data (over 10 min); a rule with one of their ids changes it (id = "no-stop", muted = true)."""

    quiet_hours: str = ""
    """Hours when only critical alerts are delivered, in UTC, e.g. "23:00-07:00" (others are recorded in
    the history); empty = none. A rule's own quiet_hours replace these."""

    cooldown_s: int = Field(default=900, ge=0, le=604_800)
    """Seconds before an alert that cleared may notify again when its condition returns (0 to a week)."""

    retries: int = Field(default=3, ge=0, le=10)
    """Retries of a notification a target failed to take (each waits twice as long as the last)."""

    timeout_s: float = Field(default=10.0, gt=0, le=120)
    """Longest wait for one target to take a notification, in seconds (up to 120)."""

    @field_validator("notify", "notify_critical", "notify_warning", "notify_info", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        return _urls(value)

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet(cls, value: str) -> str:
        if value.strip():
            try:
                parse_quiet_hours(value)
            except ValueError as exc:
                raise ValueError(f"it {exc}") from None
        return value.strip()

    @field_validator("rules")
    @classmethod
    def _check_rules(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [rule.get("id") for rule in value]
        for index, rule_id in enumerate(ids):
            if rule_id is not None and ids.index(rule_id) < index:
                raise ValueError(f"rule {index + 1} ({rule_id!r}): id: another rule has it; ids are unique")
        merge_rules(value, [])  # each rule checked: a ValueError naming the rule and the key
        return value

    def quiet_span(self) -> tuple[int, int] | None:
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None

    def effective_rules(self, user: list[dict[str, Any]] | None = None) -> list[AlertRule]:
        """The rules in force: the defaults, this section's rules and ``user``'s (from the cache)."""
        return merge_rules(self.rules, user or [], cooldown_s=self.cooldown_s, quiet_hours=self.quiet_span())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PERPTUI_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    exchange: str = ""
    """ccxt exchange id with linear perps (binanceusdm, bybit, okx ...); empty = the built-in demo market."""

    api_key: SecretStr | None = None
    """API key (read-only permissions are enough). Prefer the env var PERPTUI_API_KEY to this file."""

    api_secret: SecretStr | None = None
    """API secret, kept as a secret: never logged or printed."""

    api_password: SecretStr | None = None
    """API passphrase, for exchanges that have one (okx)."""

    api_base_url: str | None = None
    """Replace the scheme and host of every exchange REST URL (a mirror or relay), e.g. http://127.0.0.1:8080;
    a path in it prefixes the exchange's paths (https://relay.example/bybit)."""

    testnet: bool = False
    """Use the exchange's testnet (ccxt sandbox mode)."""

    db: Path | None = None
    """SQLite cache file; unset = perptui.db in the user data dir."""

    offline: bool = False
    """Use the local cache only; never reach the network."""

    account: Literal["paper", "exchange"] = "paper"
    """Which account the app shows: the local paper account, or the exchange's (read-only; needs API keys)."""

    demo: DemoSettings = DemoSettings()
    network: NetworkSettings = NetworkSettings()
    paper: PaperSettings = PaperSettings()
    risk: RiskSettings = RiskSettings()
    sizing: SizingSettings = SizingSettings()
    scan: ScanSettings = ScanSettings()
    plan: PlanSettings = PlanSettings()
    ui: UiSettings = UiSettings()
    cache: CacheSettings = CacheSettings()
    alerts: AlertsSettings = AlertsSettings()
    trading: TradingSettings = TradingSettings()
    keymap: dict[str, str] = {}
    """Key bindings by id, e.g. quit = "ctrl+q" or deposit = "D,+" (comma-separated keys)."""

    @field_validator("exchange")
    @classmethod
    def _normalise_exchange(cls, value: str) -> str:
        value = value.strip().lower()
        return "" if value == "demo" else value

    @field_validator("api_base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # The same form as the adapter's check_base_url: a path prefix is kept (a relay serving several
        # exchanges under /bybit, /okx ...), only a trailing slash goes.
        problem = base_url_problem(value)
        if problem is not None:
            raise ValueError(f"{mask_url(value.strip())} {problem}: use {BASE_URL_FORM}")
        parts = urlsplit(value.strip())
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @model_validator(mode="after")
    def _refuse_insecure_url(self) -> Settings:
        if self.api_base_url and is_insecure_url(self.api_base_url) and not self.network.allow_insecure:
            raise PydanticCustomError(
                "insecure_url",
                "plain http:// sends keys and orders unencrypted: use https://, a loopback host "
                "(localhost, 127.0.0.1, ::1), or set network.allow_insecure = true",
            )
        return self

    @property
    def exchange_name(self) -> str:
        """The id data is stored under: the ccxt id, or ``demo``."""
        return self.exchange or "demo"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_settings = InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {})
        return (init_settings, _EnvSource(settings_cls), file_settings)


class _EnvSource(EnvSettingsSource):
    """pydantic's environment source, with a one-line ConfigError for a value that is not JSON where a
    section or a table is expected (``PERPTUI_RISK=nope``, ``PERPTUI_KEYMAP='not json'``)."""

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError:
            raise ConfigError(_env_shape_message(field_name, field)) from None


def _env_shape_message(field_name: str, field: FieldInfo) -> str:
    wanted = f"PERPTUI_{field_name}".upper()
    exact = next((name for name in sorted(os.environ) if name.upper() == wanted), None)
    name = exact or next((n for n in sorted(os.environ) if n.upper().startswith(wanted + "__")), wanted)
    given = os.environ.get(name, "")
    shown = given if len(given) <= 40 else given[:40] + "..."
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
        first = next(iter(field.annotation.model_fields)).upper()
        example = f"{wanted}__{first}=..."
        accepted = f"[{field_name}] is a section: set its keys one by one (e.g. {example}) or as JSON"
    else:
        accepted = f'use a JSON object, e.g. {wanted}=\'{{"quit": "ctrl+q"}}\', or {wanted}__QUIT=ctrl+q'
    return f"bad value {shown!r} in environment variable {name}: it is not JSON; {accepted}"
