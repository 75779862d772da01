"""Menu actions change the database through the same functions as the CLI; autostart files."""

from __future__ import annotations

import plistlib
import sqlite3
import subprocess
from pathlib import Path

import pytest

from agent import autostart
from agent.notifier import NullNotifier
from agent.runtime import Runtime, RuntimeConfig
from agent.tray import TrayApp
from store import Database, enqueue, read_settings
from tests.conftest import require_tool, run_cli


class _NoWaker:
    def poke(self) -> None:
        pass


@pytest.fixture
def app(db: Database) -> TrayApp:
    runtime = Runtime(db, NullNotifier(), RuntimeConfig(owner="t"))
    tray = TrayApp(db, runtime, _NoWaker())  # type: ignore[arg-type]
    tray.refresh(force=True)  # loads state; no icon, so nothing is drawn
    return tray


def test_menu_actions_change_the_settings(app: TrayApp, db: Database) -> None:
    app.perform("toggle_enabled")
    assert read_settings(db).enable_notifications is False
    app.perform("toggle_enabled")
    assert read_settings(db).enable_notifications is True
    app.perform("min:urgent")
    assert read_settings(db).min_priority == "urgent"
    app.perform("pause:30")
    assert read_settings(db).paused_until is not None
    app.perform("resume")
    assert read_settings(db).paused_until is None
    app.perform("pause:tomorrow")
    assert read_settings(db).paused_until is not None


def test_retry_failed_and_mark_all_read(app: TrayApp, db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    with sqlite3.connect(db.path) as conn:
        conn.execute(
            "INSERT INTO notification_deliveries (notification_id, route_name, sink, status, "
            "attempts) SELECT id, 'desktop', 'desktop', 'failed', 5 FROM notifications"
        )
    app.refresh(force=True)
    app.perform("retry_failed")
    app.perform("mark_all_read")
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
    result = run_cli("retry-failed", db=db.path)
    assert result.stdout.strip() == "requeued 1 failed delivery"


def test_linux_autostart_entry_is_valid_and_not_recreated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert not autostart.is_enabled()
    path = Path(autostart.enable())
    assert path == tmp_path / "autostart" / "traycourier.desktop"
    assert autostart.is_enabled()
    validator = require_tool("desktop-file-validate")
    check = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "", check.stdout
    assert " run" in path.read_text()
    path.unlink()  # the user deletes it by hand
    assert not autostart.is_enabled()  # and nothing puts it back
    autostart.disable()
    assert not path.exists()


def test_autostart_cli(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert run_cli("autostart", "status", env=env).stdout.strip() == "start at login: disabled"
    assert run_cli("autostart", "enable", env=env).returncode == 0
    assert run_cli("autostart", "status", env=env).stdout.strip() == "start at login: enabled"
    assert run_cli("autostart", "disable", env=env).returncode == 0
    assert not (tmp_path / "autostart" / "traycourier.desktop").exists()


def test_macos_launch_agent_and_windows_run_value() -> None:
    command = ["/Applications/traycourier.app/Contents/MacOS/traycourier", "run"]
    plist = plistlib.loads(autostart.launch_agent_plist(command))
    assert plist["ProgramArguments"] == command
    assert plist["RunAtLoad"] is True and plist["Label"] == autostart.LABEL
    value = autostart.run_value([r"C:\Users\me\AppData\Local\traycourier\traycourier.exe", "run"])
    assert value == r'"C:\Users\me\AppData\Local\traycourier\traycourier.exe" "run"'


def test_a_packaged_system_entry_is_switched_off_per_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "etc-xdg"
    (system / "autostart").mkdir(parents=True)
    (system / "autostart" / "traycourier.desktop").write_text(
        autostart.desktop_entry(["/usr/bin/traycourier", "run"])
    )
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    assert autostart.is_enabled()
    user = Path(autostart.disable())
    assert not autostart.is_enabled()
    assert "Hidden=true" in user.read_text()
    assert (system / "autostart" / "traycourier.desktop").exists()  # the package's file stays
    validator = require_tool("desktop-file-validate")
    check = subprocess.run([validator, str(user)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "", check.stdout
    autostart.enable()
    assert autostart.is_enabled()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            {
                "LD_LIBRARY_PATH": "/opt/traycourier/_internal",
                "LD_LIBRARY_PATH_ORIG": "/usr/local/lib",
            },
            "/usr/local/lib",
        ),
        ({"LD_LIBRARY_PATH": "/opt/traycourier/_internal"}, None),
    ],
)
def test_a_frozen_build_gives_child_processes_their_own_library_path(
    monkeypatch: pytest.MonkeyPatch, before: dict[str, str], after: str | None
) -> None:
    import os
    import sys

    from agent import cli

    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    for key, value in before.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    cli._restore_child_environment()
    assert os.environ.get("LD_LIBRARY_PATH") == after
    assert "LD_LIBRARY_PATH_ORIG" not in os.environ
