"""Menu actions change the database through the same functions as the CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import run_in_process, wait_for
from tests.fakes import NoWaker
from traycourier.agent.engine import controls
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.agent.policy import textfit
from traycourier.agent.policy.menu_actions import (
    MarkAllRead,
    PauseFor,
    PauseUntilMorning,
    Resume,
    RetryFailed,
    SetAutostart,
    SetEnabled,
    SetMinPriority,
)
from traycourier.agent.tray.app import TrayApp
from traycourier.store import Database, Priority, enqueue, read_settings
from traycourier.store.actions import is_web_url


@pytest.fixture
def app(db: Database) -> TrayApp:
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="t"))
    tray = TrayApp(db, AgentLoop(runtime, NoWaker()))  # type: ignore[arg-type]
    tray.refresh(force=True)  # loads state; no icon, so nothing is drawn
    return tray


def test_menu_actions_change_the_settings(app: TrayApp, db: Database) -> None:
    app.perform(SetEnabled(False))
    assert read_settings(db).enable_notifications is False
    app.perform(SetEnabled(False))  # a second click on a stale menu does what it showed
    assert read_settings(db).enable_notifications is False
    app.perform(SetEnabled(True))
    assert read_settings(db).enable_notifications is True
    app.perform(SetMinPriority(Priority.URGENT))
    assert read_settings(db).min_priority == "urgent"
    app.perform(PauseFor(30))
    assert read_settings(db).paused_until is not None
    app.perform(Resume())
    assert read_settings(db).paused_until is None
    app.perform(PauseUntilMorning())
    assert read_settings(db).paused_until is not None


def test_retry_failed_and_mark_all_read(app: TrayApp, db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    with sqlite3.connect(db.path) as conn:
        conn.execute(
            "INSERT INTO notification_deliveries (notification_id, route_name, sink, status, "
            "attempts) SELECT id, 'desktop', 'desktop', 'failed', 5 FROM notifications"
        )
    app.refresh(force=True)
    app.perform(RetryFailed())
    app.perform(MarkAllRead())
    conn = sqlite3.connect(db.path)
    assert conn.execute("SELECT status, attempts FROM notification_deliveries").fetchall() == [
        ("queued", 0)
    ]
    assert conn.execute("SELECT count(*) FROM notifications WHERE read_at IS NULL").fetchone() == (
        0,
    )


def test_the_cli_and_the_menu_retry_the_same_way(
    app: TrayApp, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both reach `controls.retry_failed` (spied on), and each requeues its failed one."""
    calls: list[str] = []
    real = controls.retry_failed

    def spy(database: Database, now: datetime, device: str = "") -> int:
        calls.append(device)
        return real(database, now, device)

    monkeypatch.setattr(controls, "retry_failed", spy)

    def fail_one(title: str) -> None:
        enqueue(db, title, priority="urgent")
        with sqlite3.connect(db.path) as conn:
            conn.execute(
                "INSERT INTO notification_deliveries (notification_id, route_name, sink, "
                "status) SELECT id, 'desktop', 'desktop', 'failed' FROM notifications "
                "WHERE title = ?",
                (title,),
            )

    def statuses() -> list[tuple[str, str]]:
        with sqlite3.connect(db.path) as conn:
            return conn.execute(
                "SELECT n.title, d.status FROM notification_deliveries d JOIN notifications n "
                "ON n.id = d.notification_id ORDER BY n.title"
            ).fetchall()

    fail_one("by the cli")
    result = run_in_process("retry-failed", db=db.path)
    assert result.stdout.strip() == "requeued 1 failed delivery"
    fail_one("by the menu")
    app.refresh(force=True)
    app.perform(RetryFailed())
    assert len(calls) == 2
    assert statuses() == [("by the cli", "queued"), ("by the menu", "queued")]


def test_the_cli_changes_settings_through_the_same_function(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, object]] = []
    real = controls.set_setting

    def spy(database: Database, key: str, value: object, now: datetime) -> object:
        calls.append((key, value))
        return real(database, key, value, now)

    monkeypatch.setattr(controls, "set_setting", spy)
    assert run_in_process("settings", "set", "min_priority", "urgent", db=db.path).code == 0
    assert calls == [("min_priority", "urgent")]
    assert read_settings(db).min_priority == "urgent"


@pytest.mark.parametrize(
    ("url", "opened"),
    [
        ("https://example.com/x", True),
        ("http://example.com", True),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("mailto:a@b", False),
        ("https:///no-host", False),
        ("http://[::1", False),  # unparseable
    ],
)
def test_only_web_addresses_are_opened(url: str, opened: bool) -> None:
    assert is_web_url(url) is opened
    if not opened:  # refused before any browser is asked, and the user is told
        told: list[str] = []
        assert controls.open_url(url, told.append) is False
        assert told and "Only web (http/https) links are opened" in told[0]


def test_an_opener_that_fails_is_reaped_and_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Where no file manager is installed xdg-open exits 3: the user hears of it in a short
    readable popup, the log has xdg-open's own words, and no zombie child is left behind."""
    fake = tmp_path / "xdg-open"
    fake.write_text("#!/bin/sh\necho 'xdg-open: no method available for opening' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setattr(controls.ostype, "current", lambda: "linux")
    told: list[str] = []
    done = threading.Event()
    assert controls.open_path(tmp_path, lambda what: (told.append(what), done.set())) is True
    assert done.wait(30)
    shown = textfit.cut(str(tmp_path), 60)  # a long path is cut, the sentence kept whole
    assert told == [f"No application is set to open {shown}. Details are in the log."]
    assert "xdg-open: no method available for opening" in caplog.text
    children = subprocess.run(
        ["ps", "--ppid", str(os.getpid()), "-o", "stat="], capture_output=True, text=True
    ).stdout.split()
    assert not [state for state in children if state.startswith("Z")]


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (datetime(2026, 11, 28, 23, 30), datetime(2026, 11, 29, 8, 0)),  # late: tomorrow
        (datetime(2026, 11, 29, 1, 24), datetime(2026, 11, 29, 8, 0)),  # small hours: today
        (datetime(2026, 11, 29, 7, 59), datetime(2026, 11, 29, 8, 0)),
        (datetime(2026, 11, 29, 8, 0), datetime(2026, 11, 30, 8, 0)),  # 08:00 itself: next day
    ],
)
def test_until_eight_means_the_next_eight_oclock(now: datetime, until: datetime) -> None:
    zone = timezone(timedelta(hours=13))  # Auckland in summer
    expected = until.replace(tzinfo=zone)
    assert controls.next_morning(now.replace(tzinfo=zone)) == expected


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", ["xdg-open", "/d"]), ("darwin", ["open", "/d"]), ("windows", None)],
)
def test_each_os_opens_folders_its_own_way(platform: str, expected: list[str] | None) -> None:
    assert controls.opener_command(platform, "/d") == expected  # type: ignore[arg-type]


def test_an_address_reaches_the_opener_as_written(tmp_path: Path) -> None:
    """The opener is a real program here: a stand-in for xdg-open that records what it was
    handed. `Path("https://example.com/build/42")` had made it `https:/example.com/…`."""
    record = tmp_path / "opened"
    fake = tmp_path / "bin" / "xdg-open"
    fake.parent.mkdir()
    # written whole, then renamed: `exists` must not see the file before its bytes
    fake.write_text(f'#!/bin/sh\nprintf %s "$1" > {record}.part && mv {record}.part {record}\n')
    fake.chmod(0o755)
    address = "https://example.com/build/42?a=1&b=%20x#frag"
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{fake.parent}:{old_path}"
    try:
        assert controls.open_url(address, complain=lambda what: None)
        wait_for(record.exists, "the opener to run")
    finally:
        os.environ["PATH"] = old_path
    assert record.read_text() == address


def test_a_menu_action_that_fails_tells_the_user_and_the_agent_goes_on(
    app: TrayApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[str] = []
    monkeypatch.setattr(app, "_complain", told.append)

    def unwritable(enabled: bool, db: object = None) -> str:
        raise PermissionError(13, "Permission denied", "/home/u/.config/autostart")

    monkeypatch.setattr(controls, "set_autostart", unwritable)
    app._fire(SetAutostart(True))
    assert told and "Permission denied" in told[0]
