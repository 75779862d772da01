"""Menu actions change the database through the same functions as the CLI."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run_in_process
from traycourier.agent import controls
from traycourier.agent.backends import NullNotifier
from traycourier.agent.loop import AgentLoop
from traycourier.agent.runtime import Runtime, RuntimeConfig
from traycourier.agent.tray import TrayApp
from traycourier.agent.tray_model import (
    MarkAllRead,
    PauseFor,
    PauseUntilTomorrow,
    Resume,
    RetryFailed,
    SetEnabled,
    SetMinPriority,
)
from traycourier.store import Database, Priority, enqueue, read_settings
from traycourier.store.model import is_web_url


class _NoWaker:
    def poke(self) -> None:
        pass


@pytest.fixture
def app(db: Database) -> TrayApp:
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="t"))
    tray = TrayApp(db, AgentLoop(runtime, _NoWaker()))  # type: ignore[arg-type]
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
    app.perform(PauseUntilTomorrow())
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


def test_the_cli_and_the_menu_retry_the_same_way(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    with sqlite3.connect(db.path) as conn:
        conn.execute(
            "INSERT INTO notification_deliveries (notification_id, route_name, sink, status) "
            "SELECT id, 'desktop', 'desktop', 'failed' FROM notifications"
        )
    result = run_in_process("retry-failed", db=db.path)
    assert result.stdout.strip() == "requeued 1 failed delivery"


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
    if not opened:  # refused before any browser is asked
        assert controls.open_url(url) is False


def test_tomorrow_at_eight_in_the_users_zone() -> None:
    local = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert controls.tomorrow_at(local) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", ["xdg-open", "/d"]), ("darwin", ["open", "/d"]), ("windows", None)],
)
def test_each_os_opens_folders_its_own_way(platform: str, expected: list[str] | None) -> None:
    assert controls.opener_command(platform, Path("/d")) == expected  # type: ignore[arg-type]
