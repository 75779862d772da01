"""The tray menu as the dbusmenu tree a StatusNotifier host reads, and the answers the item
gives to a host's calls, checked through jeepney's own wire format (what the host decodes)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jeepney import DBusAddress, new_method_call
from jeepney.low_level import HeaderFields, Message, Parser

from tests.unit.test_tray_model import NOW, state
from traycourier.agent.policy.menu_actions import MenuAction, SetEnabled, ShowStatus
from traycourier.agent.policy.tray_model import Entry, build_menu, leaves
from traycourier.agent.tray import dbusmenu, snibus
from traycourier.agent.tray import menu as traymenu

MENU = (
    Entry("Status", action=ShowStatus(), default=True),
    Entry("", separator=True),
    Entry("Notifications enabled", action=SetEnabled(False), checked=True),
    Entry(
        "Minimum priority",
        children=(
            Entry("info", action=None, checked=False, radio=True),
            Entry("urgent", action=None, checked=True, radio=True, enabled=False),
        ),
    ),
)


def test_each_entry_becomes_an_item_the_spec_describes() -> None:
    tree = dbusmenu.tree(MENU, revision=7, first_id=10)
    assert tree.revision == 7
    assert dbusmenu.layout(tree.root, -1, []) == (
        0,
        {"children-display": ("s", "submenu")},
        [
            ("(ia{sv}av)", (10, {"label": ("s", "Status"), "enabled": ("b", True)}, [])),
            ("(ia{sv}av)", (11, {"type": ("s", "separator")}, [])),
            ("(ia{sv}av)", (12, {
                "label": ("s", "Notifications enabled"), "enabled": ("b", True),
                "toggle-type": ("s", "checkmark"), "toggle-state": ("i", 1),
            }, [])),
            ("(ia{sv}av)", (13, {
                "label": ("s", "Minimum priority"), "enabled": ("b", True),
                "children-display": ("s", "submenu"),
            }, [
                ("(ia{sv}av)", (14, {
                    "label": ("s", "info"), "enabled": ("b", True),
                    "toggle-type": ("s", "radio"), "toggle-state": ("i", 0),
                }, [])),
                ("(ia{sv}av)", (15, {
                    "label": ("s", "urgent"), "enabled": ("b", False),
                    "toggle-type": ("s", "radio"), "toggle-state": ("i", 1),
                }, [])),
            ])),
        ],
    )  # fmt: skip


def test_leaves_map_to_the_menu_s_slots_in_the_order_they_are_made() -> None:
    entries = build_menu(state(), NOW)
    tree = dbusmenu.tree(entries, 1, 1)
    built = traymenu.build(entries, lambda _a: None, pystray_menu=False)
    by_leaf = {i.leaf: i for i in tree.by_id.values() if i.leaf is not None}
    assert len(by_leaf) == len(built.slots) == len(leaves(entries))
    for index, slot in enumerate(built.slots):
        item = by_leaf[index]
        assert item.props["label"][1] == dbusmenu.label(leaves(entries)[index].text)
        assert slot.action == leaves(entries)[index].action


@pytest.mark.parametrize(
    ("depth", "ids"),
    [(0, []), (1, [10, 11, 12, 13]), (-1, [10, 11, 12, 13])],
)
def test_the_depth_asked_for_is_the_depth_given(depth: int, ids: list[int]) -> None:
    _id, _props, children = dbusmenu.layout(dbusmenu.tree(MENU, 1, 10).root, depth, [])
    assert [child[1][0] for child in children] == ids
    grandchildren = [c for child in children for c in child[1][2]]
    assert bool(grandchildren) == (depth == -1)


def test_only_the_properties_named_are_given() -> None:
    item = dbusmenu.tree(MENU, 1, 10).by_id[12]
    assert dbusmenu.wanted(item.props, ["label", "nope"]) == {
        "label": ("s", "Notifications enabled")
    }
    assert dbusmenu.wanted(item.props, []) == item.props


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("build_42 failed", "build__42 failed"),
        ("__init__", "____init____"),
        ("a\x00b", "a\N{REPLACEMENT CHARACTER}b"),
        ("bad \udcff byte", "bad ? byte"),
        ("<b>not bold</b> & co", "<b>not bold</b> & co"),
    ],
)
def test_labels_are_drawn_as_written(text: str, label: str) -> None:
    assert dbusmenu.label(text) == label


@given(st.text())
def test_any_text_is_a_string_the_bus_carries_and_reads_back(value: str) -> None:
    cleaned = dbusmenu.label(value)
    message = new_method_call(DBusAddress("/x", "a.b", "a.b"), "M", "s", (cleaned,))
    parser = Parser()
    parser.add_data(message.serialise(serial=1))
    got = parser.get_next_message()
    assert got is not None and got.body == (cleaned,)
    assert cleaned.replace("__", "_") == dbusmenu.text(value)  # the host draws `text`


def test_the_default_entry_is_what_activate_runs() -> None:
    assert dbusmenu.default_leaf(MENU) == 0
    assert dbusmenu.default_leaf(MENU[1:]) is None


class FakeIcon:
    """What `snibus` reads of the item; the loop and the bus are `StatusNotifierIcon`'s."""

    name, title, status, icon = "traycourier", "traycourier — on", "Active", []

    def __init__(self) -> None:
        self.tree = dbusmenu.tree(MENU, 3, 10)
        self.fired: list[MenuAction] = []
        self.sent: list[Message] = []
        self.register_serial: int | None = None

    def click(self, item_id: int) -> Any:
        item = self.tree.by_id.get(item_id)
        if item is None or item.leaf is None:
            return None
        action = leaves(MENU)[item.leaf].action
        return lambda: self.fired.append(action) if action else None

    def activate(self) -> Any:
        return lambda: self.fired.append(ShowStatus())

    def send(self, message: Message) -> None:
        self.sent.append(message)


def ask(icon: FakeIcon, path: str, iface: str, member: str, sig: str, *args: Any) -> Message:
    """A host's call through the wire format, handled; the reply as the host decodes it."""
    call = new_method_call(
        DBusAddress(path, "org.kde.StatusNotifierItem-1-1", iface), member, sig or None, args
    )
    parser = Parser()
    parser.add_data(call.serialise(serial=5))
    incoming = parser.get_next_message()
    incoming.header.fields[HeaderFields.sender] = ":1.99"
    snibus.handle(icon, incoming)  # type: ignore[arg-type]
    (reply,) = icon.sent[-1:]
    parser.add_data(reply.serialise(serial=6))
    decoded = parser.get_next_message()
    assert decoded is not None
    return decoded


M, ITEM = "com.canonical.dbusmenu", "org.kde.StatusNotifierItem"
P = "org.freedesktop.DBus.Properties"


def test_a_host_reads_the_layout_and_a_click_runs_after_the_reply() -> None:
    icon = FakeIcon()
    revision, (root, _props, children) = ask(
        icon, "/MenuBar", M, "GetLayout", "iias", 0, -1, []
    ).body
    assert (revision, root, len(children)) == (3, 0, 4)
    reply = ask(icon, "/MenuBar", M, "Event", "isvu", 12, "clicked", ("i", 0), 0)
    assert reply.header.fields[HeaderFields.reply_serial] == 5
    assert icon.fired == [SetEnabled(False)]
    ask(icon, "/MenuBar", M, "Event", "isvu", 12, "hovered", ("i", 0), 0)
    ask(icon, "/MenuBar", M, "EventGroup", "a(isvu)", [(12, "clicked", ("i", 0), 0)])
    assert icon.fired == [SetEnabled(False), SetEnabled(False)]


def test_the_item_s_properties_are_what_hosts_read() -> None:
    icon = FakeIcon()
    (props,) = ask(icon, "/StatusNotifierItem", P, "GetAll", "s", ITEM).body
    assert props["Status"] == ("s", "Active")
    assert props["Title"] == ("s", "traycourier — on")
    assert props["ToolTip"] == ("(sa(iiay)ss)", ("", [], "traycourier — on", ""))
    assert props["Menu"] == ("o", "/MenuBar")
    assert props["ItemIsMenu"] == ("b", True)
    (value,) = ask(icon, "/StatusNotifierItem", P, "Get", "ss", ITEM, "Id").body
    assert value == ("s", "traycourier")
    ask(icon, "/StatusNotifierItem", ITEM, "Activate", "ii", 0, 0)
    assert icon.fired == [ShowStatus()]


@pytest.mark.parametrize(
    ("path", "iface", "member", "sig", "args", "error"),
    [
        ("/MenuBar", M, "GetLayout", "iias", (999, -1, []), "InvalidArgs"),
        ("/MenuBar", M, "GetProperty", "is", (12, "nope"), "InvalidArgs"),
        ("/MenuBar", M, "Frobnicate", "", (), "UnknownMethod"),
        ("/StatusNotifierItem", P, "Get", "ss", (ITEM, "Nope"), "UnknownProperty"),
        ("/StatusNotifierItem", P, "Set", "ssv", (ITEM, "Title", ("s", "x")), "PropertyReadOnly"),
        ("/elsewhere", M, "GetLayout", "iias", (0, -1, []), "UnknownObject"),
        ("/MenuBar", M, "Event", "s", ("clicked",), "InvalidArgs"),  # not the spec's arguments
    ],
)
def test_a_bad_call_gets_an_error_and_the_item_goes_on(
    path: str, iface: str, member: str, sig: str, args: tuple[Any, ...], error: str
) -> None:
    icon = FakeIcon()
    reply = ask(icon, path, iface, member, sig, *args)
    assert reply.header.fields[HeaderFields.error_name].endswith("." + error)
    assert icon.fired == []
    assert ask(icon, "/MenuBar", M, "AboutToShow", "i", 0).body == (False,)


@pytest.mark.parametrize(
    ("platform", "env", "watcher", "own"),
    [
        ("linux", {"DISPLAY": ":1"}, True, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-1"}, True, True),
        ("linux", {"DISPLAY": ":1"}, False, False),  # an XEmbed tray: pystray's GTK icon
        ("linux", {"DISPLAY": ":1", "PYSTRAY_BACKEND": "gtk"}, True, False),  # chosen
        ("linux", {}, True, False),  # no display: headless
        ("windows", {"DISPLAY": ":1"}, True, False),
        ("darwin", {"DISPLAY": ":1"}, True, False),
    ],
)
def test_the_own_item_is_the_icon_where_a_watcher_runs_unless_a_backend_is_chosen(
    monkeypatch: pytest.MonkeyPatch, platform: str, env: dict[str, str], watcher: bool, own: bool
) -> None:
    from traycourier.agent.system import ostype, trayhost

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(ostype, "current", lambda: platform)
    monkeypatch.setattr(trayhost, "_sni_host", lambda: watcher)
    assert trayhost.own_item() is own
    if own:
        assert trayhost.unavailable_reason() is None
