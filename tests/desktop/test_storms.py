"""A storm from one source, written the way producers really write: thirty separate
`traycourier send` processes, or thirty separate `sqlite3` inserts, while the agent runs.
On each daemon of desktops.md the screen gets three popups of that source (two of its own
notifications and one summary updated in place, "28 more from ci"), another source's
urgent one still shows, every row is recorded, and the tray's Recent keeps the urgent one
in view."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.test_tray_e2e import menu

pytestmark = pytest.mark.desktop

STORM = 30
DAEMONS = (
    "dunst",
    "xfce4-notifyd",
    "notification-daemon",
    "mate-notification-daemon",
    "lxqt-notificationd",
)
"""Each replaces a popup in place when asked (the spec's `replaces_id`)."""


@pytest.fixture
def storm_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    require_tool("dbus-monitor")
    logdir = tmp_path / "desktop"
    daemon = request.node.callspec.params["daemon"]
    with desktop_session(logdir, notifyd=daemon) as session:
        session.env["TC_DAEMON"] = daemon
        yield session
        session.screenshot(logdir / "storm.png")
    _artifacts(request, logdir)


def write(session: Desktop, db: Path, producer: str, title: str, source: str) -> None:
    """One producer process, one transaction."""
    if producer == "send":
        done = session.cli("send", title, "--source", source, db=db)
    else:
        done = subprocess.run(
            ["sqlite3", "-cmd", ".timeout 10000", str(db),
             f"INSERT INTO notifications (title, source) VALUES ('{title}', '{source}')"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr


def running(session: Desktop, db: Path) -> bool:
    status = session.cli("status", "--json", db=db)
    return status.returncode == 0 and len(json.loads(status.stdout)["agents"]) == 1


def urgent_from_deploy(session: Desktop, db: Path) -> None:
    sent = session.cli("send", "Build failed", "--priority", "urgent", "--source", "deploy", db=db)
    assert sent.returncode == 0, sent.stderr


def recorded(db: Path) -> list[tuple[str, str, str | None]]:
    conn = sqlite3.connect(db)
    return conn.execute(
        "SELECT n.source, d.status, d.last_error_code FROM notification_deliveries AS d "
        "JOIN notifications AS n ON n.id = d.notification_id ORDER BY n.seq"
    ).fetchall()


@pytest.mark.parametrize(
    ("daemon", "producer"),
    # thirty `send` processes cost half a minute: on one daemon; the inserts on each
    [("dunst", "send"), *((daemon, "sqlite3") for daemon in DAEMONS)],
)
def test_thirty_separate_writes_make_three_popups_of_their_source(
    storm_desktop: Desktop, tmp_path: Path, daemon: str, producer: str
) -> None:
    session, db = storm_desktop, tmp_path / "tc.db"
    # the whole storm inside one window on any machine: a slow CI runner takes longer than
    # the default 10 s for thirty processes
    assert session.cli("settings", "set", "burst_window_seconds", "300", db=db).returncode == 0
    agent = session.start_agent(db, "--headless")
    try:
        wait_for(lambda: running(session, db), "the agent")
        for i in range(STORM):
            write(session, db, producer, f"ci {i}", "ci")
            if i == STORM // 2:
                urgent_from_deploy(session, db)
        wait_for(
            lambda: [s for _, s, _ in recorded(db)] == ["sent"] * (STORM + 1), "every one shown"
        )
        session.screenshot(session.logdir / "storm-shown.png")  # for the CI artefacts
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err

    calls = session.notify_calls()
    ci = [c for c in calls if c.summary.startswith("ci: ") or "more from ci" in c.summary]
    assert len([c for c in ci if c.replaces == 0]) == 3  # three popups of ci, never more
    summaries = [c for c in ci if "more from ci" in c.summary]
    assert len({c.replaces for c in summaries if c.replaces}) == 1  # one, updated in place
    last = summaries[-1]
    assert last.summary == "28 more from ci"
    assert last.body.startswith("• ci 29\n• ci 28\n• ci 27\nand 25 more")
    assert ci[-1] == last
    (urgent,) = [c for c in calls if c.summary == "deploy: Build failed"]
    assert urgent.urgency == 2

    rows = recorded(db)
    ci_codes = [code for source, _, code in rows if source == "ci"]
    shown_alone = len([c for c in ci if c.summary.startswith("ci: ")])
    assert ci_codes.count("coalesced") + shown_alone == STORM  # each one, exactly once
    assert [code for source, _, code in rows if source == "deploy"] == [None]
    listing = session.cli("deliveries", "--source", "ci", db=db).stdout
    assert re.search(r"ci 29 +shown in its source's summary", listing), listing


def test_recent_keeps_the_urgent_one_in_view_through_a_storm(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        urgent_from_deploy(session, db)
        for i in range(STORM):
            write(session, db, "sqlite3", f"ci {i}", "ci")

        def recent() -> list[str]:
            (entry,) = [m for m in menu(session)["menu"] if m.get("text") == "Recent notifications"]
            texts = [str(c["text"]) for c in entry["children"] if "text" in c]  # type: ignore[index]
            return texts[:-1]  # "Mark all read" ends it

        wait_for(lambda: any("ci 29" in text for text in recent()), "the storm's last in Recent")
        entries = recent()
        assert len(entries) == 10
        assert "Build failed" in entries[-1] and "deploy" in entries[-1]
        assert any("in a summary" in text for text in entries)
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
