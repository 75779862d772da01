"""What traycourier's StatusNotifier item answers on the bus: a host's calls (the item's
properties, the dbusmenu tree, clicks), the watcher's answer to our registration, and the
watcher's name changing hands. One message in, at most one reply out; a click's action runs
after its reply, so a host never waits on a notification or a browser."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jeepney import new_error, new_method_return
from jeepney.low_level import HeaderFields, MessageFlag, MessageType

from traycourier.agent.tray import dbusmenu
from traycourier.agent.tray.sni import WATCHER

if TYPE_CHECKING:
    from traycourier.agent.tray.snitem import StatusNotifierIcon

log = logging.getLogger(__name__)

ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"

_INTROSPECT = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="org.freedesktop.DBus.Introspectable">
  <method name="Introspect"><arg type="s" direction="out"/></method></interface>
 <interface name="org.freedesktop.DBus.Properties">
  <method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/>
   <arg type="v" direction="out"/></method>
  <method name="GetAll"><arg type="s" direction="in"/><arg type="a{sv}" direction="out"/>
  </method></interface>
 <interface name="%s">%s</interface>
</node>
"""
_ITEM_METHODS = """
  <method name="Activate"><arg type="i" direction="in"/><arg type="i" direction="in"/></method>
  <method name="SecondaryActivate"><arg type="i" direction="in"/><arg type="i" direction="in"/>
  </method>
  <method name="ContextMenu"><arg type="i" direction="in"/><arg type="i" direction="in"/>
  </method>
  <method name="Scroll"><arg type="i" direction="in"/><arg type="s" direction="in"/></method>
  <signal name="NewIcon"/><signal name="NewTitle"/><signal name="NewToolTip"/>
  <signal name="NewStatus"><arg type="s"/></signal>
"""
_MENU_METHODS = """
  <method name="GetLayout"><arg type="i" direction="in"/><arg type="i" direction="in"/>
   <arg type="as" direction="in"/><arg type="u" direction="out"/>
   <arg type="(ia{sv}av)" direction="out"/></method>
  <method name="GetGroupProperties"><arg type="ai" direction="in"/>
   <arg type="as" direction="in"/><arg type="a(ia{sv})" direction="out"/></method>
  <method name="GetProperty"><arg type="i" direction="in"/><arg type="s" direction="in"/>
   <arg type="v" direction="out"/></method>
  <method name="Event"><arg type="i" direction="in"/><arg type="s" direction="in"/>
   <arg type="v" direction="in"/><arg type="u" direction="in"/></method>
  <method name="EventGroup"><arg type="a(isvu)" direction="in"/>
   <arg type="ai" direction="out"/></method>
  <method name="AboutToShow"><arg type="i" direction="in"/><arg type="b" direction="out"/>
  </method>
  <method name="AboutToShowGroup"><arg type="ai" direction="in"/><arg type="ai" direction="out"/>
   <arg type="ai" direction="out"/></method>
  <signal name="LayoutUpdated"><arg type="u"/><arg type="i"/></signal>
  <signal name="ItemsPropertiesUpdated"><arg type="a(ia{sv})"/><arg type="a(ias)"/></signal>
"""


class Refused(Exception):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(why)
        self.name = name


Reply = tuple[str, tuple[Any, ...], Callable[[], None] | None]
"""The reply's signature and body, and what to run once it is sent."""


def item_props(icon: StatusNotifierIcon) -> dict[str, tuple[str, Any]]:
    return {
        "Category": ("s", "ApplicationStatus"),
        "Id": ("s", icon.name),
        "Title": ("s", icon.title),
        "Status": ("s", icon.status),
        "WindowId": ("i", 0),
        "IconName": ("s", ""),
        "IconThemePath": ("s", ""),
        "IconPixmap": ("a(iiay)", icon.icon),
        "OverlayIconName": ("s", ""),
        "OverlayIconPixmap": ("a(iiay)", []),
        "AttentionIconName": ("s", ""),
        "AttentionIconPixmap": ("a(iiay)", []),
        "AttentionMovieName": ("s", ""),
        "ToolTip": ("(sa(iiay)ss)", ("", [], icon.title, "")),
        "ItemIsMenu": ("b", True),
        "Menu": ("o", MENU_PATH),
    }


MENU_PROPS: dict[str, tuple[str, Any]] = {
    "Version": ("u", 3),
    "TextDirection": ("s", "ltr"),
    "Status": ("s", "normal"),
    "IconThemePath": ("as", []),
}


def handle(icon: StatusNotifierIcon, msg: Any) -> None:
    header = msg.header
    kind = header.message_type
    if kind in (MessageType.method_return, MessageType.error):
        if header.fields.get(HeaderFields.reply_serial) == icon.register_serial:
            refused = kind is MessageType.error
            error = f"{header.fields.get(HeaderFields.error_name)}: {msg.body}"
            icon.registered(error if refused else None)
        return
    if kind is MessageType.signal:
        if header.fields.get(HeaderFields.member) == "NameOwnerChanged":
            name, _old, new = msg.body
            if name == WATCHER and new:
                log.info("a StatusNotifier watcher took the bus name; registering")
                icon.register()
        return
    after = None
    try:
        sig, body, after = call(icon, header.fields, msg.body)
        reply = new_method_return(msg, sig or None, body)
    except Refused as err:
        reply = new_error(msg, err.name, "s", (str(err),))
    except Exception as err:  # a host that sends what the spec does not: it, not us, fails
        log.warning("a bad call to the tray item (%s): %r", header.fields, err)
        reply = new_error(msg, INVALID_ARGS, "s", (f"{type(err).__name__}: {err}",))
    if not header.flags & MessageFlag.no_reply_expected:
        icon.send(reply)
    if after is not None:
        after()


def call(icon: StatusNotifierIcon, fields: dict[Any, Any], args: tuple[Any, ...]) -> Reply:
    path = fields.get(HeaderFields.path)
    iface = str(fields.get(HeaderFields.interface, ""))
    member = str(fields.get(HeaderFields.member, ""))
    if iface == "org.freedesktop.DBus.Peer" and member == "Ping":
        return "", (), None
    if path == ITEM_PATH:
        return _item_call(icon, iface, member, args)
    if path == MENU_PATH:
        return _menu_call(icon, iface, member, args)
    if iface == "org.freedesktop.DBus.Introspectable" and path == "/":
        nodes = '<node><node name="StatusNotifierItem"/><node name="MenuBar"/></node>'
        return "s", (nodes,), None
    raise Refused("org.freedesktop.DBus.Error.UnknownObject", f"no object at {path}")


def _properties(props: dict[str, tuple[str, Any]], own: str, member: str, args: Any) -> Reply:
    if member == "GetAll":
        return "a{sv}", (props if args[0] in (own, "") else {},), None
    if member == "Get":
        if args[1] not in props:
            raise Refused("org.freedesktop.DBus.Error.UnknownProperty", f"no property {args[1]}")
        return "v", (props[args[1]],), None
    raise Refused("org.freedesktop.DBus.Error.PropertyReadOnly", "the properties are read-only")


def _item_call(icon: StatusNotifierIcon, iface: str, member: str, args: Any) -> Reply:
    if iface == PROPS_IFACE:
        return _properties(item_props(icon), ITEM_IFACE, member, args)
    if iface == "org.freedesktop.DBus.Introspectable":
        return "s", (_INTROSPECT % (ITEM_IFACE, _ITEM_METHODS),), None
    if member == "Activate":
        return "", (), icon.activate()
    if member in ("SecondaryActivate", "ContextMenu", "Scroll", "ProvideXdgActivationToken"):
        return "", (), None  # the host draws the menu; nothing else is offered
    raise Refused(UNKNOWN_METHOD, f"no method {member}")


def _menu_call(icon: StatusNotifierIcon, iface: str, member: str, args: Any) -> Reply:
    tree = icon.tree
    if iface == PROPS_IFACE:
        return _properties(MENU_PROPS, MENU_IFACE, member, args)
    if iface == "org.freedesktop.DBus.Introspectable":
        return "s", (_INTROSPECT % (MENU_IFACE, _MENU_METHODS),), None
    if member == "GetLayout":
        parent, depth, names = args
        if parent not in tree.by_id:
            raise Refused(INVALID_ARGS, f"no menu item {parent}")
        layout = dbusmenu.layout(tree.by_id[parent], depth, names)
        return "u(ia{sv}av)", (tree.revision, layout), None
    if member == "GetGroupProperties":
        ids, names = args
        chosen = [tree.by_id[i] for i in ids if i in tree.by_id] if ids else tree.by_id.values()
        return "a(ia{sv})", ([(i.id, dbusmenu.wanted(i.props, names)) for i in chosen],), None
    if member == "GetProperty":
        item = tree.by_id.get(args[0])
        if item is None or args[1] not in item.props:
            raise Refused(INVALID_ARGS, f"no property {args[1]} on item {args[0]}")
        return "v", (item.props[args[1]],), None
    if member == "Event":
        return "", (), icon.click(args[0]) if args[1] == "clicked" else None
    if member == "EventGroup":
        clicks = [icon.click(i) for i, event, _data, _t in args[0] if event == "clicked"]
        unknown = [i for i, _event, _data, _t in args[0] if i not in tree.by_id]
        return "ai", (unknown,), _all(c for c in clicks if c is not None)
    if member == "AboutToShow":
        return "b", (False,), None
    if member == "AboutToShowGroup":
        return "aiai", ([], [i for i in args[0] if i not in tree.by_id]), None
    raise Refused(UNKNOWN_METHOD, f"no method {member}")


def _all(jobs: Any) -> Callable[[], None] | None:
    listed = list(jobs)
    if not listed:
        return None

    def run() -> None:
        for job in listed:
            job()

    return run
