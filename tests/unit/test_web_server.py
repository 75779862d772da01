"""The history window's server, over a real database file and real sockets: who gets in,
what a page may load, and that its buttons do what the menu does."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.fakes import NoWaker
from traycourier.agent.engine import controls
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.agent.policy.menu_actions import ShowHistory
from traycourier.agent.tray.app import TrayApp
from traycourier.agent.web.server import MAX_BODY, HistoryServer
from traycourier.store import Database, enqueue, mutes, read_settings
from traycourier.store.actions import Action
from traycourier.store.answers import answer_of
from traycourier.store.timestamps import utcnow


@pytest.fixture
def app(db: Database) -> TrayApp:
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="t"))
    return TrayApp(db, AgentLoop(runtime, NoWaker()))  # type: ignore[arg-type]


@pytest.fixture
def server(
    app: TrayApp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[HistoryServer]:
    opened: list[str] = []
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the address file
    monkeypatch.setattr(controls, "open_with_desktop", lambda url, _c: opened.append(url) or True)
    app.perform(ShowHistory())  # as the menu item does
    window = app.history.window.server
    assert window is not None
    assert opened == [window.url]  # the browser is handed the address with the secret
    yield window
    app.history.stop()


def request(
    server: HistoryServer, method: str, target: str, body: str = "", **headers: str
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, target, body=body or None, headers=headers)
    return conn.getresponse()


def login(server: HistoryServer) -> str:
    assert server.url is not None
    answer = request(server, "GET", server.url.removeprefix(server.origin))
    assert answer.status == 303 and answer.getheader("Location") == "/"
    cookie = answer.getheader("Set-Cookie") or ""
    assert cookie.endswith("; HttpOnly; SameSite=Strict; Path=/")
    return cookie.split(";")[0]


def post(server: HistoryServer, cookie: str, **form: str) -> http.client.HTTPResponse:
    return request(server, "POST", "/act", urlencode(form), Cookie=cookie,
                   **{"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


def test_the_secret_is_traded_for_a_cookie_and_nothing_opens_without_them(
    server: HistoryServer,
) -> None:
    assert request(server, "GET", "/").status == 403
    assert request(server, "GET", "/?key=guess").status == 403
    assert request(server, "GET", "/events").status == 403
    cookie = login(server)
    answer = request(server, "GET", "/", Cookie=cookie)
    assert answer.status == 200
    assert request(server, "GET", "/", Cookie=cookie + "x").status == 403


def test_another_host_name_is_refused_even_with_the_cookie(server: HistoryServer) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: its Host gives it away."""
    cookie = login(server)
    for host in ("evil.example", f"evil.example:{server.port}", f"localhost:{server.port}"):
        assert request(server, "GET", "/", Cookie=cookie, Host=host).status == 403


def test_a_post_without_the_token_or_from_another_site_is_refused(
    server: HistoryServer, db: Database
) -> None:
    note = enqueue(db, "Deploy?", actions=[Action("Approve", id="approve")])
    cookie = login(server)
    form = {"kind": "answer", "id": note.id, "choice": "approve", "back": ""}
    assert post(server, cookie, **form).status == 403
    assert post(server, cookie, **form, csrf="wrong").status == 403
    foreign = request(server, "POST", "/act", urlencode({**form, "csrf": server.csrf}),
                      Cookie=cookie, Origin="https://evil.example")  # fmt: skip
    assert foreign.status == 403
    unanswered = answer_of(db, note.id)
    assert unanswered is not None and unanswered.answer is None
    big = post(server, cookie, csrf=server.csrf, kind="read-all", pad="x" * MAX_BODY)
    assert big.status == 413


def test_an_answer_from_the_page_is_written_back_as_from_the_menu(
    server: HistoryServer, db: Database
) -> None:
    note = enqueue(db, "Deploy?", actions=[Action("Approve", id="approve")])
    cookie = login(server)
    done = post(server, cookie, csrf=server.csrf, kind="answer", id=note.id, choice="approve",
                back="q=Deploy")  # fmt: skip
    assert done.status == 303 and done.getheader("Location") == "/?q=Deploy"
    found = answer_of(db, note.id)
    assert found is not None and found.answer == "approve"
    bad = post(server, cookie, csrf=server.csrf, kind="snooze", id=note.id, back="")
    assert bad.status == 400  # never shown here: one line saying why, the server goes on
    assert b"Traceback" not in bad.read()
    assert request(server, "GET", "/", Cookie=cookie).status == 200


def test_every_answer_carries_the_policy_and_no_cors(server: HistoryServer) -> None:
    cookie = login(server)
    for target in ("/", "/list", "/app.js", "/app.css", "/nothing"):
        answer = request(server, "GET", target, Cookie=cookie, Origin="https://evil.example")
        policy = answer.getheader("Content-Security-Policy") or ""
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert answer.getheader("Access-Control-Allow-Origin") is None
        assert answer.getheader("X-Content-Type-Options") == "nosniff"


def test_an_open_page_hears_of_each_change(server: HistoryServer) -> None:
    cookie = login(server)
    answer = request(server, "GET", "/events", Cookie=cookie)
    assert answer.getheader("Content-Type") == "text/event-stream"
    assert answer.readline() == b"retry: 2000\n"
    answer.readline()
    threading.Timer(0.2, server.changed).start()
    assert answer.readline() == b"data: changed\n"


def test_nothing_listens_beyond_this_machine(server: HistoryServer) -> None:
    """The port is open on 127.0.0.1 and on no other address the machine has."""
    # link-local IPv6 needs an interface to connect to, which would fail for that reason
    addresses = [a for a in _addresses() if not a.startswith(("127.", "fe80:")) and a != "::1"]
    assert addresses, "this machine has no other address to try"
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, server.port or 0)) != 0, address
    assert urlsplit(server.url).hostname == "127.0.0.1"


def _addresses() -> set[str]:
    """Every address of this machine's interfaces (`ip`), or, without iproute2, the one its
    default route leaves from (a UDP socket's connect sends nothing)."""
    if shutil.which("ip"):
        found = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True)
        return {info["local"] for link in json.loads(found.stdout)
                for info in link.get("addr_info", [])}  # fmt: skip
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(("192.0.2.1", 9))
        return {udp.getsockname()[0]}


def test_the_settings_change_as_from_the_menu_and_a_bad_value_is_one_line(
    server: HistoryServer, db: Database
) -> None:
    cookie = login(server)
    token = {"csrf": server.csrf, "back": ""}
    for form in (
        {"kind": "enabled", "value": "0"},
        {"kind": "min-priority", "priority": "action"},
        {"kind": "quiet", "window": "21:30-06:45"},
        {"kind": "burst", "limit": "5", "seconds": "30"},
        {"kind": "mute", "source": "ci", "minutes": "480"},
        {"kind": "pause", "minutes": "30"},
    ):
        assert post(server, cookie, **token, **form).status == 303, form
    current = read_settings(db)
    assert current.enable_notifications is False and current.min_priority == "action"
    assert current.quiet_hours == "21:30-06:45" and current.paused_until is not None
    assert (current.burst_limit, current.burst_window_seconds) == (5, 30)
    assert "ci" in mutes.active(db, utcnow())
    bad = post(server, cookie, **token, kind="quiet", window="late-ish")
    assert bad.status == 400
    assert bad.read().decode().count("\n") == 1  # the setting's own words, one line
    assert read_settings(db).quiet_hours == "21:30-06:45"  # nothing half-written
    page = request(server, "GET", "/", Cookie=cookie).read().decode()
    assert 'value="21:30-06:45"' in page and "Switch on" in page and "ci until" in page
