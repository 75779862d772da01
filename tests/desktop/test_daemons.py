"""The notification daemons users run, each a real program from Debian on a private bus:
every notification arrives, reads exactly as the producer wrote it (no markup, no link),
with its urgency and icon, and never as a modal dialog."""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require, require_tool
from tests.desktop.conftest import Desktop, _artifacts, desktop_session

pytestmark = pytest.mark.desktop

DAEMONS = {
    # name: (parses body markup, parses summary markup) -- measured, see docs/decisions.md
    "dunst": (True, True),
    "dunst-nomarkup": (False, False),
    "xfce4-notifyd": (True, False),
    "notification-daemon": (True, False),
    "mate-notification-daemon": (True, False),
    "lxqt-notificationd": (True, False),
}
PROGRAMS = {
    "dunst": "dunst",
    "dunst-nomarkup": "dunst",
    "xfce4-notifyd": "xfce4-notifyd",
    "notification-daemon": "notification-daemon",
    "mate-notification-daemon": "mate-notification-daemon",
    "lxqt-notificationd": "lxqt-notificationd",
}
TITLE = '<a href="file:///etc/passwd">x</a> & <span size="1">tiny</span>'
BODY = "a <i>b</i> & c > d"


@pytest.fixture(params=list(DAEMONS))
def daemon_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    name = request.param
    program = PROGRAMS[name]
    require_tool("dbus-monitor")
    installed = list(Path("/usr/lib").glob(f"**/{program}")) + list(Path("/usr/bin").glob(program))
    require(bool(installed), f"{program} is not installed (scripts/setup.sh installs it)")
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, notifyd=name) as session:
        session.env["TC_DAEMON"] = name
        yield session
        session.screenshot(logdir / f"{name}.png")
    _artifacts(request, logdir)


def test_each_daemon_shows_what_the_producer_wrote(daemon_desktop: Desktop, tmp_path: Path) -> None:
    session, db = daemon_desktop, tmp_path / "tc.db"
    name = session.env["TC_DAEMON"]
    body_markup, summary_markup = DAEMONS[name]
    assert session.cli("send", TITLE, BODY, "--priority", "urgent", db=db).returncode == 0
    assert session.cli("send", "plain one", "second", "--priority", "action", db=db).returncode == 0
    run = session.cli("run", "--headless", "--once", db=db)
    assert run.returncode == 0, run.stderr
    statuses = sqlite3.connect(db).execute("SELECT status FROM notification_deliveries").fetchall()
    assert statuses == [("sent",), ("sent",)], run.stderr

    urgent, normal = session.notify_calls()
    reads_summary = html.unescape(urgent.summary) if summary_markup else urgent.summary
    reads_body = html.unescape(urgent.body) if body_markup else urgent.body
    assert (reads_summary, reads_body) == (TITLE, BODY)
    if not summary_markup:
        assert urgent.summary == TITLE  # sent as written: this server shows it literally
    else:
        assert "<" not in urgent.summary  # no live markup, no link for dunst's URL menu
    assert (urgent.urgency, normal.urgency) == (2, 1)
    # urgent: the server's default expiry (critical keeps it); never 0, which makes some
    # servers open a modal dialog or hide every later notification
    assert (urgent.timeout_ms, normal.timeout_ms) == (-1, 10_000)
    for call in (urgent, normal):
        assert call.app == "traycourier"
        assert call.icon.endswith("traycourier.png") and Path(call.icon).is_file()
