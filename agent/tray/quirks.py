"""What pystray's backends need beyond its API (pystray 0.19.5, pinned): the pictures each
takes, a hover tooltip on the GTK backend, titles the xorg backend can encode, and a stop it
really sends."""

from __future__ import annotations

import logging
from typing import Any

from traycourier.agent.system import icons

log = logging.getLogger(__name__)


def picture(backend: str, state: str, look: str = "color") -> Any:
    """The tray picture for the backend in module `backend`. pystray's GTK and AppIndicator
    backends only write the picture out as a PNG file, so they get the PNG drawn ahead and
    the process never loads Pillow; the others (xorg, Windows, macOS, traycourier's own
    item) read its pixels and get a Pillow image."""
    if backend.endswith(("._gtk", "._appindicator")):
        return icons.tray_png(state, look)
    return icons.render(state, look=look)


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


def stop(icon: Any) -> None:
    """`icon.stop()`, really sent. On the xorg backend the loop destroys the icon's window
    and waits for the server to say so, but python-xlib leaves the loop's own request
    unsent when another thread was still sending (the one that asked for the stop) and the
    loop is already back waiting to read. Seen: SIGTERM, no exit. A round trip from this
    thread sends what is queued; the destroy follows, and the loop ends (pystray keeps the
    connection in `_display`)."""
    icon.stop()
    display = getattr(icon, "_display", None)
    if display is None or not type(icon).__module__.endswith("._xorg"):
        return
    try:
        display.sync()
    except Exception as err:  # the connection is gone: so is the loop
        log.warning("cannot reach the X server after the icon's stop: %s", err)
