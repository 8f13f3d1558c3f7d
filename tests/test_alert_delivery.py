"""Alert delivery through Apprise to loopback receivers (issue 21): fired and cleared arrive once each,
5xx is retried with backoff, a dead or slow target delays no other, and target URLs never show."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import string
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from perptui.cli import main
from perptui.domain.alerts.notification import Notification
from perptui.domain.errors import ConfigError
from perptui.services.alerts.masking import mask_target, scrub, secret_pieces
from perptui.services.alerts.notify import (
    Notifier,
    targets_from_settings,
)
from tests.loopback.notify_receiver import NotifyReceiver

TIMEOUT_S = 30.0  # never reached by a real clock: the timer below fires only when a test says


class ManualTime:
    """Time that passes only when the test says: a backoff sleep returns at once (recorded, the clock
    moves on); the timeout timer (a sleep of exactly TIMEOUT_S) waits until ``expire()``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.backoffs: list[float] = []
        self.on_backoff = lambda n: None
        self._expired = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds == TIMEOUT_S:
            await self._expired.wait()
            self.now += seconds
            return
        self.backoffs.append(seconds)
        self.now += seconds
        self.on_backoff(len(self.backoffs))

    def clock(self) -> float:
        return self.now

    def expire(self) -> None:
        self._expired.set()


def notifier(targets: dict, t: ManualTime, *, retries: int = 3) -> Notifier:
    return Notifier(
        {k: [SecretStr(u) for u in v] for k, v in targets.items()},
        timeout_s=TIMEOUT_S,
        retries=retries,
        backoff_s=1.0,
        sleep=t.sleep,
        clock=t.clock,
    )


def alert(kind: str = "fired", severity: str = "warning") -> Notification:
    title = "BTC/USDT:USDT 4.2% from liquidation" if kind == "fired" else "BTC/USDT:USDT back above 5%"
    return Notification(
        key="liq-distance:BTC/USDT:USDT",
        rule_id="liq-distance",
        kind=kind,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        title=title,
        body=f"{kind}: mark 61,000, liquidation 58,440",
        time=1_700_000_000_000,
        symbol="BTC/USDT:USDT",
    )


class Heard:
    """The deliveries ``send`` reports one by one, awaitable by count."""

    def __init__(self) -> None:
        self.deliveries: list = []
        self._changed = asyncio.Event()

    def __call__(self, delivery: object) -> None:
        self.deliveries.append(delivery)
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        while len(self.deliveries) < count:
            self._changed.clear()
            await self._changed.wait()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting is refused, and no one else can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_fired_and_cleared_arrive_once_each_with_title_and_body_on_json_and_ntfy() -> None:
    async def go() -> None:
        async with NotifyReceiver() as hook, NotifyReceiver() as ntfy:
            t = ManualTime()
            n = notifier({"warning": [hook.json_url(), ntfy.ntfy_url()]}, t)
            fired = await n.send(alert("fired"))
            cleared = await n.send(alert("cleared"))
            assert [d.ok for d in fired + cleared] == [True] * 4
            assert [r.json["title"] for r in hook.requests] == [alert("fired").title, alert("cleared").title]
            assert [r.json["message"] for r in hook.requests] == [alert("fired").body, alert("cleared").body]
            assert [r.json["type"] for r in hook.requests] == ["warning", "success"]
            assert [r.path for r in hook.requests] == ["/hook/TOKEN-json-s3cr3t"] * 2
            assert [(r.json["topic"], r.json["title"], r.json["message"]) for r in ntfy.requests] == [
                ("topic-s3cr3t", alert(k).title, alert(k).body) for k in ("fired", "cleared")
            ]
            assert t.backoffs == []
            # Other severities have no target here: nothing is sent anywhere.
            assert await n.send(alert("fired", "critical")) == []
            assert len(hook.requests) == len(ntfy.requests) == 2

    asyncio.run(go())


def test_5xx_is_retried_with_exponential_backoff_then_reported_failed() -> None:
    async def go() -> None:
        async with NotifyReceiver("5xx") as hook:
            t = ManualTime()
            [d] = await notifier({"critical": [hook.json_url()]}, t, retries=3).send(
                alert(severity="critical")
            )
            assert len(hook.requests) == 4  # the first try and 3 retries
            assert t.backoffs == [1.0, 2.0, 4.0]
            assert not d.ok
            assert "503" in d.detail and "4 attempts" in d.detail and "\n" not in d.detail
            assert d.target == f"json://127.0.0.1:{hook.port}/***"

    asyncio.run(go())


def test_a_target_that_recovers_between_retries_is_delivered() -> None:
    async def go() -> None:
        async with NotifyReceiver("5xx") as hook:
            t = ManualTime()
            t.on_backoff = lambda k: setattr(hook, "mode", "ok") if k == 2 else None
            [d] = await notifier({"info": [hook.json_url()]}, t).send(alert(severity="info"))
            assert d.ok and "attempt 3 of 4" in d.detail
            assert len(hook.requests) == 3 and t.backoffs == [1.0, 2.0]

    asyncio.run(go())


def test_a_dead_and_a_slow_target_do_not_delay_a_good_one(dead_port: int) -> None:
    async def go() -> None:
        async with NotifyReceiver("slow") as slow, NotifyReceiver() as good:
            t = ManualTime()
            dead = f"json://127.0.0.1:{dead_port}/hook/dead-token"
            n = notifier({"critical": [dead, slow.json_url(), good.json_url()]}, t, retries=1)
            heard = Heard()
            sending = asyncio.ensure_future(n.send(alert(severity="critical"), heard))
            # The good target's delivery and the dead one's failure are done while the slow target
            # still holds its request unanswered.
            await heard.wait_for(2)
            await slow.wait_for(1)
            assert not sending.done()
            assert sorted((d.target, d.ok) for d in heard.deliveries) == sorted(
                [(f"json://127.0.0.1:{good.port}/***", True), (f"json://127.0.0.1:{dead_port}/***", False)]
            )
            assert good.requests[0].json["title"] == alert().title
            slow.release()
            deliveries = await sending
            assert [d.ok for d in deliveries] == [False, True, True]
            assert deliveries[0].target == f"json://127.0.0.1:{dead_port}/***"
            assert "2 attempts" in deliveries[0].detail and t.backoffs == [1.0]
            assert len(good.requests) == 1 and len(slow.requests) == 1

    asyncio.run(go())


def test_a_target_that_never_answers_times_out_and_the_others_are_delivered_meanwhile() -> None:
    async def go() -> None:
        async with NotifyReceiver("slow") as slow, NotifyReceiver() as good:
            t = ManualTime()
            n = notifier({"warning": [slow.json_url(), good.json_url()]}, t, retries=0)
            heard = Heard()
            sending = asyncio.ensure_future(n.send(alert(), heard))
            await heard.wait_for(1)  # the good target is done
            await slow.wait_for(1)
            t.expire()  # the slow target's own timeout passes
            hung, delivered = await sending
            assert not hung.ok and hung.detail.startswith(f"no answer within {TIMEOUT_S:g} s")
            assert delivered.ok

    asyncio.run(go())


def test_a_dropped_connection_is_a_failure_with_a_reason() -> None:
    async def go() -> None:
        async with NotifyReceiver("drop") as hook:
            t = ManualTime()
            [d] = await notifier({"warning": [hook.json_url()]}, t, retries=1).send(alert())
            assert not d.ok and len(hook.requests) == 2 and d.detail.strip()

    asyncio.run(go())


SECRETS = ("s3cr3t", "TOKEN", "hunter2", "topic-s3cr3t", "dead-token")


def test_secrets_never_appear_in_deliveries_logs_exceptions_or_reprs(
    caplog: pytest.LogCaptureFixture, dead_port: int
) -> None:
    caplog.set_level(logging.DEBUG)

    async def go() -> list:
        async with NotifyReceiver("5xx") as failing, NotifyReceiver("5xx") as ntfy:
            t = ManualTime()
            n = notifier(
                {
                    "critical": [
                        failing.json_url("hook/TOKEN-s3cr3t?token=s3cr3t-q"),
                        ntfy.ntfy_url(auth="trader:hunter2"),
                        f"json://127.0.0.1:{dead_port}/dead-token",
                    ]
                },
                t,
                retries=1,
            )
            deliveries = await n.send(alert(severity="critical"))
            assert ntfy.requests[0].headers["Authorization"].startswith("Basic ")  # the password was used
            return [*deliveries, repr(n), n.targets()]

    shown = repr(asyncio.run(go()))
    with pytest.raises(ConfigError) as refused:
        Notifier({"info": [SecretStr("nosuchservice://user:hunter2@smtp.example.com/TOKEN-s3cr3t")]})
    assert "nosuchservice://***@smtp.example.com/***" in str(refused.value)
    # The capture saw Apprise's DEBUG lines (so the check below could fail), scrubbed.
    assert "JSON Payload" in caplog.text and "ntfy Payload" in caplog.text
    for text in (shown, caplog.text, str(refused.value)):
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_a_url_apprise_cannot_use_is_refused_naming_its_setting() -> None:
    settings = SimpleNamespace(
        alerts=SimpleNamespace(
            notify=["json://127.0.0.1:1/ok"], notify_warning=["tgramx://bot-s3cr3t/chat"], notify_info=[]
        )
    )
    with pytest.raises(ConfigError) as refused:
        Notifier.from_settings(settings)
    message = str(refused.value)
    assert message.startswith("alerts.notify_warning: tgramx://***/***")
    assert "s3cr3t" not in message and "\n" not in message


def test_targets_of_each_severity_are_notify_plus_its_own_each_once() -> None:
    settings = SimpleNamespace(
        alerts=SimpleNamespace(
            notify=[SecretStr("ntfy://ntfy.sh/a")],
            notify_critical=["ntfy://ntfy.sh/a", "tgram://1:B/2"],
            notify_info=["json://localhost/x"],
        )
    )
    got = {k: [s.get_secret_value() for s in v] for k, v in targets_from_settings(settings).items()}
    assert got == {
        "critical": ["ntfy://ntfy.sh/a", "tgram://1:B/2"],
        "warning": ["ntfy://ntfy.sh/a"],
        "info": ["ntfy://ntfy.sh/a", "json://localhost/x"],
    }
    assert targets_from_settings(SimpleNamespace()) == {"info": [], "warning": [], "critical": []}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ntfy://user:pass@ntfy.sh/topic", "ntfy://***@ntfy.sh/***"),
        ("ntfys://ntfy.sh/my-topic", "ntfys://ntfy.sh/***"),
        ("tgram://123456789:AAHsecret/987654", "tgram://***/***"),
        ("discord://1234567/webhook-token", "discord://***/***"),
        (
            "json://127.0.0.1:8080/hook?token=abc&format=text",
            "json://127.0.0.1:8080/***?token=***&format=***",
        ),
        ("mailtos://me:pw@smtp.example.com?to=me@example.com", "mailtos://***@smtp.example.com?to=***"),
        ("not a url", "***"),
    ],
)
def test_mask_target_keeps_scheme_and_host_and_hides_the_rest(url: str, shown: str) -> None:
    assert mask_target(url) == shown
    assert not any(p in shown for p in secret_pieces(url) if p not in ("ntfy.sh",))


# --- perptui alerts test --------------------------------------------------------------------------


def with_settings(monkeypatch: pytest.MonkeyPatch, **alerts: object) -> None:
    """The [alerts] settings from the environment, as a trader's shell or systemd unit sets them."""
    for name in ("notify", "notify_critical", "notify_warning", "notify_info", "retries"):
        monkeypatch.delenv(f"PERPTUI_ALERTS__{name.upper()}", raising=False)
    for name, value in alerts.items():
        shown = json.dumps(value) if isinstance(value, list) else str(value)
        monkeypatch.setenv(f"PERPTUI_ALERTS__{name.upper()}", shown)


def test_alerts_test_sends_to_every_target_and_says_what_each_answered(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with NotifyReceiver().in_thread() as good, NotifyReceiver("5xx").in_thread() as bad:
        with_settings(
            monkeypatch,
            notify=[good.json_url()],
            notify_critical=[bad.ntfy_url(auth="trader:hunter2")],
            retries=0,
        )
        code = main(["alerts", "test", "--json"])
        out, err = capsys.readouterr()
        assert code == 1
        report = json.loads(out)
        assert (report["sent"], report["failed"]) == (1, 1)
        assert [t["target"] for t in report["targets"]] == [
            f"json://127.0.0.1:{good.port}/***",
            f"ntfy://***@127.0.0.1:{bad.port}/***",
        ]
        assert "503" in report["targets"][1]["detail"]
        assert len(good.requests) == 1 and good.requests[0].json["title"] == "perptui: test alert"

        bad.mode = "ok"
        assert main(["alerts", "test"]) == 0
        text, err2 = capsys.readouterr()
        assert "2 of 2 targets took the test notification" in text
    for shown in (out, err, text, err2):
        for secret in SECRETS:
            assert secret not in shown


def test_alerts_test_without_a_target_is_a_usage_error_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_settings(monkeypatch)
    assert main(["alerts", "test"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no notification target is configured" in err


def test_the_cli_the_alerts_package_and_a_notifier_without_targets_do_not_import_apprise() -> None:
    code = (
        "import sys, perptui.cli, perptui.cli.parser, perptui.services.alerts.notify as n; "
        "perptui.cli.parser.build_parser(); n.Notifier({}); print('apprise' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


_TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=6, max_size=24)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    scheme=st.sampled_from(["ntfy", "ntfys", "tgram", "discord", "json", "jsons", "mailtos", "slack"]),
    user=_TOKEN,
    password=_TOKEN,
    host=st.one_of(st.just("ntfy.example.com"), st.just("127.0.0.1:8080"), _TOKEN),
    path=st.lists(_TOKEN, max_size=3),
    query=st.lists(st.tuples(st.sampled_from(["token", "to", "key"]), _TOKEN), max_size=2),
    with_userinfo=st.booleans(),
)
def test_no_secret_of_a_target_survives_its_masking(
    scheme: str,
    user: str,
    password: str,
    host: str,
    path: list[str],
    query: list[tuple[str, str]],
    with_userinfo: bool,
) -> None:
    userinfo = f"{user}:{password}@" if with_userinfo else ""
    url = f"{scheme}://{userinfo}{host}/" + "/".join(path) + ("?" + urlencode(query) if query else "")
    shown = mask_target(url)
    kept = {scheme, "ntfy.example.com", "127.0.0.1:8080", *(k for k, _ in query)}
    secrets = [*path, *(v for _, v in query)] + ([user, password] if with_userinfo else [])
    if host not in kept:
        secrets.append(host)
    for secret in secrets:
        assume(not any(secret in k for k in kept))
        assert secret not in shown
    assert shown.startswith(f"{scheme}://")
    # A library's log line quoting the URL, or its parts on their own, is scrubbed of every one.
    said = scrub(f"POST {url} failed; topic {' '.join(secrets)}", secret_pieces(url))
    for secret in secrets:
        assert secret not in said


@pytest.mark.parametrize(
    ("platform", "url"), [("darwin", "macosx://"), ("win32", "windows://"), ("linux", "dbus://")]
)
def test_desktop_notifications_use_this_machines_own_service(platform: str, url: str) -> None:
    from perptui.services.alerts.notify import desktop_url

    assert desktop_url(platform) == url


def test_desktop_is_a_target_of_every_severity_and_refused_in_one_line_where_there_is_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from perptui.services.alerts.notify import desktop_url, targets_from_settings

    alerts = SimpleNamespace(notify=[], notify_critical=[], notify_warning=[], notify_info=[], desktop=True)
    targets = targets_from_settings(SimpleNamespace(alerts=alerts))
    assert all([t.get_secret_value() for t in ts] == [desktop_url()] for ts in targets.values())
    monkeypatch.setenv("PERPTUI_ALERTS__DESKTOP", "true")
    monkeypatch.setattr("perptui.services.alerts.notify._plugin", lambda url, asset: None)  # no desktop here
    assert main(["alerts", "test"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alerts.desktop: this machine has no desktop notifications" in err
