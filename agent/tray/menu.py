"""The menu built from `tray_model` entries (pystray's, or only its slots for traycourier's
own StatusNotifier item, `agent.tray.snitem`), and an open GTK menu kept current.

Every item fires through a `Slot` holding the action the item shows, so a click does what
the user saw, never what the state became since. On XEmbed trays (pystray's GTK backend) a
new pystray menu only appears the next time the menu opens: a menu left open would go on
showing a setting another program has changed. So when the state changes while the menu is
open and the new menu has the same shape, the open widgets are updated in place (labels,
check marks, sensitivity) together with their slots; otherwise the open menu stays as it was,
consistent with its own slots, and the next opening shows the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from traycourier.agent.policy.menu_actions import MenuAction
from traycourier.agent.policy.tray_model import Entry, leaves


@dataclass
class Slot:
    action: MenuAction | None


@dataclass(frozen=True)
class Built:
    menu: Any
    """The pystray.Menu (None for traycourier's own StatusNotifier item, which needs none)."""
    entries: tuple[Entry, ...]
    slots: list[Slot]
    """One per leaf item, depth-first: the order pystray creates the widgets in."""
    fire: Callable[[MenuAction], None]


def build(
    entries: tuple[Entry, ...], fire: Callable[[MenuAction], None], pystray_menu: bool = True
) -> Built:
    if not pystray_menu:
        return Built(None, entries, [Slot(e.action) for e in leaves(entries)], fire)
    import pystray

    slots: list[Slot] = []

    def convert(level: tuple[Entry, ...]) -> Any:
        items = []
        for e in level:
            if e.separator:
                items.append(pystray.Menu.SEPARATOR)
            elif e.children:
                items.append(pystray.MenuItem(e.text, convert(e.children)))
            else:
                slot = Slot(e.action)
                slots.append(slot)
                items.append(
                    pystray.MenuItem(
                        e.text,
                        _clicker(slot, fire),
                        checked=None if e.checked is None else (lambda _i, v=e.checked: v),
                        radio=e.radio,
                        enabled=e.enabled,
                        default=e.default,
                    )
                )
        return pystray.Menu(*items)

    return Built(convert(entries), entries, slots, fire)


def _clicker(slot: Slot, fire: Callable[[MenuAction], None]) -> Callable[[Any, Any], None]:
    """pystray accepts only callables of exactly (icon, item)."""

    def click(_icon: Any, _item: Any) -> None:
        if slot.action is not None:
            fire(slot.action)

    return click


def shape(entries: tuple[Entry, ...]) -> tuple[Any, ...]:
    """What must match for an in-place update: the widgets pystray made for each entry."""
    return tuple(
        "separator"
        if e.separator
        else ("submenu", shape(e.children))
        if e.children
        else ("item", e.checked is None, e.radio, e.default)
        for e in entries
    )


def open_gtk_menu(icon: Any) -> Any | None:
    """pystray's GTK menu while it is on screen (pystray keeps it in `_menu_handle`)."""
    handle = getattr(icon, "_menu_handle", None)
    return handle if handle is not None and handle.get_mapped() else None


def update_in_place(handle: Any, shown: Built, new: Built) -> Built | None:
    """Bring the open GTK menu `handle` (built from `shown`) to `new`'s entries; returns what
    the menu now shows, or None when the shapes differ. Runs on the GTK main thread. The
    slots are emptied first: setting a check mark makes GTK emit `activate`, which must not
    fire an action."""
    if shape(shown.entries) != shape(new.entries):
        return None
    for slot in shown.slots:
        slot.action = None
    pairs = iter(zip(shown.slots, new.slots, strict=True))
    _update_level(handle, new.entries, pairs)
    return Built(shown.menu, new.entries, shown.slots, new.fire)


def _update_level(menu: Any, entries: tuple[Entry, ...], pairs: Any) -> None:
    from gi.repository import GLib, Gtk

    for widget, e in zip(menu.get_children(), entries, strict=True):
        if e.separator:
            continue
        if e.default:
            widget.get_children()[0].set_markup(f"<b>{GLib.markup_escape_text(e.text)}</b>")
        else:
            widget.set_label(e.text)
        widget.set_sensitive(e.enabled)
        if e.children:
            _update_level(widget.get_submenu(), e.children, pairs)
            continue
        if isinstance(widget, Gtk.CheckMenuItem) and e.checked is not None:
            widget.set_active(e.checked)
        shown_slot, new_slot = next(pairs)
        shown_slot.action = new_slot.action
