"""Delivery of alerts through Apprise: every target of a notification's severity, concurrently.

Each target is one Apprise URL (``ntfy://``, ``tgram://``, ``discord://``, ``json://``, ``mailto://`` ...)
given as a ``SecretStr``: the URLs carry tokens and passwords, so they are shown only through
:func:`mask_target` (scheme and host kept, credentials, path and query values replaced by ``***``), in
``Delivery``, messages, exceptions and reprs alike, and a filter on Apprise's and urllib3's loggers
scrubs them from any record those libraries write (``masking``: Apprise logs the full URL and payload at
DEBUG). A URL Apprise cannot parse is refused when the notifier is made, naming its setting.

Why a thread of its own per attempt: Apprise's plugins send with ``requests``, which blocks. Its
``async_notify`` only moves that blocking call onto Apprise's shared thread pool and applies Apprise's
own retry and wait rules, and ``asyncio.to_thread`` uses the loop's default pool (cores + 4 workers
here): in either pool a few targets that hang would queue the sends to the good ones behind them, and
pool threads are joined when the process exits, so a hung target would hold up the exit of
``perptui alerts test``. A daemon thread per attempt is never queued behind another target and never
holds the process; the event loop only awaits a future. Each attempt is bounded by ``timeout_s`` (the
await gives up; the plugin's own connect and read timeouts are set to the same, so the thread ends too),
failures are retried ``retries`` times with exponential backoff, and targets run side by side under
``asyncio.gather``, so a dead or slow target delays no other (``send`` returns when the last is done;
its ``on_delivery`` hears each target as soon as it is). ``sleep`` (the backoff and the timeout
timer) and ``clock`` (the durations reported) are injectable: tests never wait for real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from perptui.domain.alerts.notification import SEVERITIES, Notification, Severity
from perptui.domain.errors import ConfigError

from .masking import guard_logs, mask_target, scrub, secret_pieces

if TYPE_CHECKING:
    from apprise.plugins.base import NotifyBase

#: The settings that hold targets: the first for every severity, the others for one each.
TARGET_SETTINGS: tuple[tuple[str, tuple[Severity, ...]], ...] = (
    ("notify", SEVERITIES),
    ("notify_critical", ("critical",)),
    ("notify_warning", ("warning",)),
    ("notify_info", ("info",)),
)
#: What a target may look like, for messages.
TARGET_FORMS = (
    "an Apprise URL such as ntfy://your-topic, tgram://bottoken/chatid, discord://id/token, "
    "json://host/path or mailtos://user:pass@host"
)
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 1.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
OnDelivery = Callable[["Delivery"], None]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one target answered: ``target`` masked, ``detail`` one line."""

    target: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "ok": self.ok, "detail": self.detail}


# --- targets from the settings ---------------------------------------------------------------------


def desktop_url(platform: str | None = None) -> str:
    """Apprise's desktop notifications of this machine: macOS's notification centre, Windows' toasts,
    else the freedesktop D-Bus service (GNOME, KDE ... on Linux)."""
    import sys

    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return "macosx://"
    if platform.startswith("win"):
        return "windows://"
    return "dbus://"


def _configured(settings: object) -> list[tuple[str, tuple[Severity, ...], SecretStr]]:
    """(setting, severities, URL) of every target: the ``notify`` lists, and this machine's desktop for
    every severity when ``alerts.desktop`` is set."""
    alerts = getattr(settings, "alerts", None)
    found = [
        (f"alerts.{name}", severities, _as_secret(value))
        for name, severities in TARGET_SETTINGS
        for value in getattr(alerts, name, None) or ()
    ]
    if getattr(alerts, "desktop", False):
        found.append(("alerts.desktop", SEVERITIES, SecretStr(desktop_url())))
    return found


def _as_secret(value: object) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(str(value))


def target_settings(settings: object) -> list[tuple[str, SecretStr]]:
    """Every configured target with the setting it came from (``alerts.notify_warning`` ...): the
    ``[alerts]`` section's ``notify`` lists, read with empty defaults."""
    return [(where, secret) for where, _, secret in _configured(settings)]


def targets_from_settings(settings: object) -> dict[Severity, list[SecretStr]]:
    """The targets of each severity: ``alerts.notify`` plus ``alerts.notify_<severity>``, each URL once."""
    targets: dict[Severity, list[SecretStr]] = {s: [] for s in SEVERITIES}
    for _, severities, secret in _configured(settings):
        for severity in severities:
            if all(t.get_secret_value() != secret.get_secret_value() for t in targets[severity]):
                targets[severity].append(secret)
    return targets


def _plugin(url: str, asset: Any) -> NotifyBase | None:
    import apprise

    return apprise.Apprise.instantiate(url, asset=asset)


def check_targets(named: Iterable[tuple[str, SecretStr]]) -> None:
    """Refuse, in one line naming the setting, the first URL Apprise cannot use (masked)."""
    named = list(named)
    if not named:  # nothing to parse: Apprise (a second to load its plugins) stays unimported
        return
    guard_logs(s.get_secret_value() for _, s in named)
    asset = _asset()
    for where, secret in named:
        if _plugin(secret.get_secret_value(), asset) is None:
            if where == "alerts.desktop":
                raise ConfigError(
                    f"alerts.desktop: this machine has no desktop notifications Apprise can reach "
                    f"({secret.get_secret_value()} needs a desktop session and its Python bindings, e.g. "
                    "dbus-python on Linux); set desktop = false"
                )
            raise ConfigError(
                f"{where}: {mask_target(secret.get_secret_value())} is not a notification URL Apprise "
                f"can use; give {TARGET_FORMS}"
            )


def _asset() -> Any:
    import apprise

    # Synchronous sends: each target already runs on a thread of its own (see the module docstring).
    return apprise.AppriseAsset(app_id="perptui", app_desc="perptui alerts", async_mode=False)


# --- the notifier ----------------------------------------------------------------------------------

_NOTIFY_TYPE = {"info": "info", "warning": "warning", "critical": "failure"}


def _in_thread(call: Callable[[], tuple[bool, str]]) -> asyncio.Future[tuple[bool, str]]:
    """``call()`` on a daemon thread of its own; its result (or exception) lands in the future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[tuple[bool, str]] = loop.create_future()

    def settle(result: tuple[bool, str] | None, error: BaseException | None) -> None:
        if future.done():  # timed out and abandoned
            return
        if error is not None:
            future.set_exception(error)
        else:
            assert result is not None
            future.set_result(result)

    def work() -> None:
        try:
            outcome: tuple[tuple[bool, str] | None, BaseException | None] = (call(), None)
        except BaseException as exc:  # handed to the awaiting coroutine, which words it
            outcome = (None, exc)
        # A send abandoned at its timeout may end after its loop has closed: no one waits for it then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=work, name="perptui-notify", daemon=True).start()
    return future


class Notifier:
    """Sends notifications to the targets of their severity; see the module docstring."""

    def __init__(
        self,
        targets: Mapping[Severity, Sequence[SecretStr]],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not timeout_s > 0 or not backoff_s >= 0 or retries < 0:
            raise ValueError("timeout_s must be above 0, backoff_s and retries 0 or more")
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self._sleep = sleep
        self._clock = clock
        self._targets: dict[Severity, list[str]] = {s: [] for s in SEVERITIES}
        for severity, secrets in targets.items():
            for secret in secrets:
                url = secret.get_secret_value()
                if url not in self._targets[severity]:
                    self._targets[severity].append(url)
        check_targets((f"the {s} targets", SecretStr(u)) for s in SEVERITIES for u in self._targets[s])
        self._secrets = {p for urls in self._targets.values() for u in urls for p in secret_pieces(u)}

    @classmethod
    def from_settings(cls, settings: object, **options: Any) -> Notifier:
        """The notifier of the ``[alerts]`` settings (its targets, ``timeout_s`` and ``retries``); a URL
        Apprise cannot use is refused naming its key. ``options`` override the settings."""
        check_targets(target_settings(settings))
        alerts = getattr(settings, "alerts", None)
        options.setdefault("timeout_s", getattr(alerts, "timeout_s", DEFAULT_TIMEOUT_S))
        options.setdefault("retries", getattr(alerts, "retries", DEFAULT_RETRIES))
        return cls(targets_from_settings(settings), **options)

    def targets(self, severity: Severity | None = None) -> list[str]:
        """The masked targets of ``severity`` (of every severity, each once, when None)."""
        return [mask_target(u) for u in self._urls(severity)]

    def _urls(self, severity: Severity | None) -> list[str]:
        if severity is not None:
            return list(self._targets[severity])
        every: list[str] = []
        for s in SEVERITIES:
            every += [u for u in self._targets[s] if u not in every]
        return every

    def __repr__(self) -> str:
        shown = {s: self.targets(s) for s in SEVERITIES if self._targets[s]}
        return f"Notifier({shown}, timeout_s={self.timeout_s}, retries={self.retries})"

    async def send(self, n: Notification, on_delivery: OnDelivery | None = None) -> list[Delivery]:
        """``n`` to every target of its severity, side by side; one Delivery per target, in the targets'
        order. ``on_delivery`` hears each as soon as its target is done, before the slower ones."""
        return await self._send_to(self._urls(n.severity), n, on_delivery)

    async def send_everywhere(self, n: Notification, on_delivery: OnDelivery | None = None) -> list[Delivery]:
        """``n`` to every configured target whatever its severity (``perptui alerts test``)."""
        return await self._send_to(self._urls(None), n, on_delivery)

    async def _send_to(
        self, urls: list[str], n: Notification, on_delivery: OnDelivery | None
    ) -> list[Delivery]:
        async def one(url: str) -> Delivery:
            delivery = await self._deliver(url, n)
            if on_delivery is not None:
                on_delivery(delivery)
            return delivery

        return list(await asyncio.gather(*(one(u) for u in urls)))

    async def _deliver(self, url: str, n: Notification) -> Delivery:
        masked = mask_target(url)
        attempts = self.retries + 1
        start = self._clock()
        detail = ""
        for attempt in range(1, attempts + 1):
            try:
                ok, detail = await self._attempt(url, n)
            except Exception as exc:  # an error inside Apprise: worded, never raised past the target
                ok, detail = False, scrub(f"{type(exc).__name__}: {exc}", self._secrets)
            if ok:
                took = self._clock() - start
                tries = f", attempt {attempt} of {attempts}" if attempt > 1 else ""
                return Delivery(masked, True, f"{detail} ({took:.1f} s{tries})")
            if attempt < attempts:
                await self._sleep(self.backoff_s * 2 ** (attempt - 1))
        took = self._clock() - start
        tries = f"{attempts} attempt" + ("s" if attempts > 1 else "")
        return Delivery(masked, False, f"{detail} (failed {tries} in {took:.1f} s)")

    async def _attempt(self, url: str, n: Notification) -> tuple[bool, str]:
        """One send to ``url``: its outcome, or a timeout after ``timeout_s`` (the thread is left to end
        by its socket timeouts, set to the same)."""
        sent = _in_thread(lambda: self._send_once(url, n))
        timer: asyncio.Future[Any] = asyncio.ensure_future(self._sleep(self.timeout_s))
        waiting: set[asyncio.Future[Any]] = {sent, timer}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if sent.done():
            return sent.result()
        sent.cancel()
        return False, f"no answer within {self.timeout_s:g} s"

    def _send_once(self, url: str, n: Notification) -> tuple[bool, str]:
        """Blocking: one Apprise send to ``url``, on the calling (worker) thread."""
        import apprise

        asset = _asset()
        plugin = _plugin(url, asset)
        if plugin is None:  # checked when the notifier was made; kept for a plugin that changed its mind
            return False, "Apprise cannot use this URL"
        plugin.socket_connect_timeout = self.timeout_s
        plugin.socket_read_timeout = self.timeout_s
        sender = apprise.Apprise(asset=asset)
        sender.add(plugin)
        said: list[tuple[int, str]] = []

        def heard(entry: Any, service: Any) -> None:
            if service is not None:
                said.append((logging.getLevelName(entry.level), entry.message))

        notify_type = "success" if n.kind == "cleared" else _NOTIFY_TYPE[n.severity]
        result = sender.notify(
            body=n.body,
            title=n.title,
            notify_type=apprise.NotifyType(notify_type),
            log_callback=heard,
            log_level=logging.INFO,
        )
        ok = bool(result)
        worst = [m for level, m in said if isinstance(level, int) and level >= logging.WARNING]
        line = worst[-1] if worst and not ok else said[-1][1] if said else ("sent" if ok else "not sent")
        return ok, scrub(" ".join(line.split()), self._secrets)
