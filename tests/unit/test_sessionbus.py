"""The session bus as the notifier and the tray-host check reach it: found where libdbus
finds it, and "nobody owns that name" when there is no bus at all (never an exception)."""

from __future__ import annotations

from pathlib import Path

import pytest

from traycourier.agent.system import sessionbus


def test_no_bus_means_no_owner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no `bus` socket in it
    with pytest.raises(sessionbus.NoSessionBus):
        sessionbus.session_address()
    assert sessionbus.name_has_owner("org.kde.StatusNotifierWatcher") is False
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'gone'}")
    assert sessionbus.name_has_owner("org.kde.StatusNotifierWatcher") is False


def test_the_systemd_user_bus_is_found_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "bus").touch()
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert sessionbus.session_address() == f"unix:path={tmp_path / 'bus'}"


def test_a_name_is_owned_only_while_its_program_holds_it(session_bus: str) -> None:
    assert sessionbus.name_has_owner("org.freedesktop.DBus") is True  # the bus itself
    assert sessionbus.name_has_owner("org.kde.StatusNotifierWatcher") is False
