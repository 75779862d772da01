"""What pystray's backends need beyond its API (pystray 0.19.5, pinned): a hover tooltip
on the GTK backend, and titles the xorg backend can encode."""

from __future__ import annotations

from typing import Any


def gtk_tooltip(icon: Any, text: str) -> None:
    """pystray's GTK backend sets the status icon's title, which no host shows on hover;
    set its tooltip as well, on GTK's main loop (pystray 0.19.5 keeps the GtkStatusIcon in
    `_status_icon`; other backends have their own tooltip and are left alone)."""
    status_icon = getattr(icon, "_status_icon", None)
    if status_icon is None:
        return
    from gi.repository import GLib

    GLib.idle_add(status_icon.set_tooltip_text, text)


def title_for(icon: Any, text: str) -> str:
    """pystray's xorg backend writes the title as the window's WM_NAME, which python-xlib
    encodes as Latin-1: an em dash would raise inside its loop and end the agent."""
    if type(icon).__module__.endswith("._xorg"):
        return text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
    return text
