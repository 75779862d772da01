"""The tray menu as a `com.canonical.dbusmenu` tree: what a StatusNotifier host (KDE, GNOME's
AppIndicator extension, xfce4-panel, waybar, swaybar) reads and draws. Pure: no bus here.

Every menu the agent shows gets fresh item ids (`first_id` up from the last tree's), so an
`Event` for an id from a menu the host drew before a change still reaches the item the user
saw, through that item's own `Slot` (`agent.tray.menu`), never the item now at its place.
Values are jeepney's: a variant is a `(signature, value)` pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from traycourier.agent.policy.tray_model import Entry, leaves

ROOT = 0
Props = dict[str, tuple[str, Any]]


def text(value: str) -> str:
    """Any text as a D-Bus string: no NUL (the bus refuses a message with one), no lone
    surrogate (it cannot be encoded as UTF-8). Titles in the menu are another program's."""
    cleaned = value.replace("\x00", "\N{REPLACEMENT CHARACTER}")
    return cleaned.encode("utf-8", "replace").decode("utf-8")


def label(value: str) -> str:
    """dbusmenu reads `_x` as a keyboard mnemonic: a title's own underscores are doubled so
    the host draws them as written."""
    return text(value).replace("_", "__")


@dataclass(frozen=True)
class Item:
    id: int
    props: Props
    children: tuple[Item, ...] = ()
    leaf: int | None = None
    """Its index in the menu's slots (depth-first, as `agent.tray.menu.build` makes them)."""


@dataclass(frozen=True)
class Tree:
    revision: int
    root: Item
    by_id: dict[int, Item]

    @property
    def last_id(self) -> int:
        return max(self.by_id)


def tree(entries: Sequence[Entry], revision: int, first_id: int) -> Tree:
    ids = itertools.count(first_id)
    leaves = itertools.count()
    by_id: dict[int, Item] = {}

    def level(entries: Sequence[Entry]) -> tuple[Item, ...]:
        made = []
        for e in entries:
            item = _item(e, next(ids), level(e.children) if e.children else (), leaves)
            by_id[item.id] = item
            made.append(item)
        return tuple(made)

    root = Item(ROOT, {"children-display": ("s", "submenu")}, level(entries))
    by_id[ROOT] = root
    return Tree(revision, root, by_id)


def _item(e: Entry, id_: int, children: tuple[Item, ...], leaves: Iterator[int]) -> Item:
    if e.separator:
        return Item(id_, {"type": ("s", "separator")})
    props: Props = {"label": ("s", label(e.text)), "enabled": ("b", e.enabled)}
    if children:
        props["children-display"] = ("s", "submenu")
        return Item(id_, props, children)
    if e.checked is not None:
        props["toggle-type"] = ("s", "radio" if e.radio else "checkmark")
        props["toggle-state"] = ("i", 1 if e.checked else 0)
    return Item(id_, props, (), next(leaves))


def wanted(props: Props, names: Sequence[str]) -> Props:
    """The properties asked for; all of them when none are named (the spec's rule)."""
    return dict(props) if not names else {k: v for k, v in props.items() if k in names}


def layout(item: Item, depth: int, names: Sequence[str]) -> tuple[int, Props, list[Any]]:
    """`GetLayout`'s `(ia{sv}av)` from `item` down: depth -1 is the whole subtree, 0 the item
    alone."""
    children = [] if depth == 0 else item.children
    return (
        item.id,
        wanted(item.props, names),
        [("(ia{sv}av)", layout(child, depth - 1, names)) for child in children],
    )


def default_leaf(entries: tuple[Entry, ...]) -> int | None:
    """The slot of the entry a left click runs (`Activate`), if the menu has one."""
    return next((i for i, e in enumerate(leaves(entries)) if e.default), None)
