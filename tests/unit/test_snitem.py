"""traycourier's StatusNotifier item against a watcher written here, on a private session
bus: a watcher that refuses the first registration (it owns its name before it serves its
object, as at login) and calls the item back before it answers (a deadlock for an item that
waited on the answer). The real watchers and panels are in tests/desktop."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, new_error, new_method_call, new_method_return
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields, MessageType
from PIL import Image

from tests.conftest import wait_for
from traycourier.agent.policy.menu_actions import ShowStatus
from traycourier.agent.policy.tray_model import Entry
from traycourier.agent.tray import menu as traymenu
from traycourier.agent.tray.snitem import StatusNotifierIcon


class Watcher:
    """Refuses the first `refuse` registrations; before accepting one, reads the item's
    properties (as KDE's and xfce4-panel's watchers do) and keeps what it read."""

    def __init__(self, address: str, refuse: int) -> None:
        self.conn = open_dbus_connection(bus=address)
        self.conn.send_and_get_reply(
            new_method_call(
                DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus",
                            "org.freedesktop.DBus"),
                "RequestName", "su", ("org.kde.StatusNotifierWatcher", 4),
            )
        )  # fmt: skip
        self.refuse = refuse
        self.calls: list[str] = []
        self.seen: dict[str, object] = {}
        self.registered = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.registered.is_set():
            msg = self.conn.receive()
            if msg.header.message_type is not MessageType.method_call:
                continue
            name = msg.body[0]
            self.calls.append(name)
            if len(self.calls) <= self.refuse:
                self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownObject"))
                continue
            item = DBusAddress("/StatusNotifierItem", name, "org.freedesktop.DBus.Properties")
            call = new_method_call(item, "GetAll", "s", ("org.kde.StatusNotifierItem",))
            (self.seen,) = self.conn.send_and_get_reply(call, timeout=10).body
            self.conn.send(new_method_return(msg))
            self.registered.set()


@contextlib.contextmanager
def serving(icon: StatusNotifierIcon) -> Iterator[None]:
    """The item served on a thread of its own, shown as the tray's setup shows it; ended."""
    ran = threading.Thread(
        target=icon.run, args=(lambda i: setattr(i, "visible", True),), daemon=True
    )
    ran.start()
    try:
        yield
    finally:
        icon.stop()
        ran.join(timeout=30)
    assert not ran.is_alive()


def test_a_refused_registration_is_made_again_and_the_watcher_can_call_back(
    session_bus: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    watcher = Watcher(session_bus, refuse=1)
    menu = (Entry("Status", action=ShowStatus(), default=True),)
    built = traymenu.build(menu, lambda _action: None, pystray_menu=False)
    icon = StatusNotifierIcon("traycourier", Image.new("RGBA", (64, 64)), "tc — on", built)
    with serving(icon):
        wait_for(watcher.registered.is_set, "the item registered")
        assert watcher.calls == [icon.bus_name, icon.bus_name]
        assert watcher.seen["Status"] == ("s", "Active")
        assert watcher.seen["Title"] == ("s", "tc — on")
        sizes = [(w, h, len(data)) for w, h, data in watcher.seen["IconPixmap"][1]]
        assert sizes == [(22, 22, 22 * 22 * 4), (32, 32, 32 * 32 * 4), (64, 64, 64 * 64 * 4)]
        assert "refused the item" in caplog.text
        wait_for(lambda: "registered with the StatusNotifier watcher" in caplog.text, "said")


def test_a_new_watcher_gets_the_item_again(session_bus: str) -> None:
    first = Watcher(session_bus, refuse=0)
    built = traymenu.build((Entry("Status", action=ShowStatus()),), lambda _a: None, False)
    icon = StatusNotifierIcon("traycourier", Image.new("RGBA", (32, 32)), "tc", built)
    with serving(icon):
        wait_for(first.registered.is_set, "registered with the first watcher")
        first.conn.close()  # the panel goes away, and another takes the name
        second = Watcher(session_bus, refuse=0)
        wait_for(second.registered.is_set, "registered with the new watcher")
        assert second.calls == [icon.bus_name]


def test_stop_before_the_loop_runs_still_ends_it(session_bus: str) -> None:
    built = traymenu.build((), lambda _a: None, False)
    icon = StatusNotifierIcon("traycourier", Image.new("RGBA", (32, 32)), "tc", built)
    icon.stop()  # a SIGTERM during start-up
    ran = threading.Thread(target=icon.run, args=(lambda _i: None,), daemon=True)
    ran.start()
    ran.join(timeout=30)
    assert not ran.is_alive()


def test_a_new_picture_is_announced_once_and_read_as_drawn(session_bus: str) -> None:
    """The tray sets the icon on every refresh; a host hears `NewIcon` only when the picture
    changed, and reads it back as ARGB32, alpha first."""
    watcher = Watcher(session_bus, refuse=0)
    built = traymenu.build((Entry("Status", action=ShowStatus()),), lambda _a: None, False)
    icon = StatusNotifierIcon("traycourier", Image.new("RGBA", (32, 32)), "tc", built)
    host = open_dbus_connection(bus=session_bus)
    rule = MatchRule(type="signal", interface="org.kde.StatusNotifierItem")
    host.send_and_get_reply(message_bus.AddMatch(rule))
    with serving(icon), host.filter(rule) as heard:
        wait_for(watcher.registered.is_set, "the item registered")
        red = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
        icon.icon = red
        icon.icon = red  # the same picture again: nothing to announce
        icon.title = "tc — off"  # a later change: once heard, the repeat was passed over
        members = [host.recv_until_filtered(heard, timeout=10).header.fields[HeaderFields.member]]
        while members[-1] != "NewToolTip":
            members.append(
                host.recv_until_filtered(heard, timeout=10).header.fields[HeaderFields.member]
            )
        assert members == ["NewIcon", "NewTitle", "NewToolTip"]
        item = DBusAddress("/StatusNotifierItem", icon.bus_name, "org.freedesktop.DBus.Properties")
        get = new_method_call(item, "Get", "ss", ("org.kde.StatusNotifierItem", "IconPixmap"))
        ((_sig, drawn),) = host.send_and_get_reply(get, timeout=10).body
    host.close()
    assert (32, 32, b"\xff\xff\x00\x00" * 32 * 32) in drawn
