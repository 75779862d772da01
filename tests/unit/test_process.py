"""The agent process: what it gives the programs it starts, and one tray per database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from traycourier.agent.cli import process


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
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    for key, value in before.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    process.restore_child_environment()
    assert os.environ.get("LD_LIBRARY_PATH") == after
    assert "LD_LIBRARY_PATH_ORIG" not in os.environ


def test_a_second_tray_agent_on_one_database_is_refused_with_the_holders_pid(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "t.db"
    lock = process.single_instance(db)
    try:
        with pytest.raises(process.AlreadyRunning, match=f"pid {os.getpid()}"):
            process.single_instance(db)
    finally:
        lock.release()
    process.single_instance(db).release()  # free again once released


@pytest.mark.parametrize(
    ("items", "listed"),
    [
        ([":1.8"], True),  # status-notifier-watcher lists the bus name
        ([":1.8/org/ayatana/NotificationItem/traycourier"], True),  # KDE: name and path
        ([":1.80"], False),  # another client whose name starts like ours
        ([":1.80/org/ayatana/NotificationItem/x"], False),
        (["/org/ayatana/NotificationItem/traycourier"], False),  # a path alone names no one
        ([], False),
    ],
)
def test_the_watcher_lists_our_item(items: list[str], listed: bool) -> None:
    from traycourier.agent.tray.sni import is_listed

    assert is_listed(items, ":1.8") is listed
