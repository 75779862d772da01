"""Can a tray icon be shown here, and with which pystray backend? Answered before pystray is
imported (its import alone fails, or its icon waits forever, without a display or a host).
`run`, `doctor` and `self-test` all ask this module.
"""

from __future__ import annotations

import logging
import os

from traycourier.agent import ostype

log = logging.getLogger(__name__)


NO_HOST = "no tray host on the display (no system tray or status notifier)"
"""The one reason that can go away by itself: at login the panel often starts after us."""


def prepare_gtk() -> None:
    """A tray icon draws no OpenGL: without this GDK opens GL at start-up, which loads Mesa
    (under Xvfb llvmpipe's libLLVM, ~55 MiB of resident memory) for nothing."""
    os.environ.setdefault("GDK_GL", "disable")


def no_display_reason(platform: ostype.Platform) -> str | None:
    """On Linux a tray needs an X11 or Wayland display; elsewhere the OS always has a shell."""
    if platform != "linux":
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


def unavailable_reason() -> str | None:
    """Why a tray icon cannot be shown here, or None. Checked before pystray is imported,
    because pystray's import itself fails (or its icon waits forever) without a display."""
    platform = ostype.current()
    if platform != "linux":
        return None
    missing = no_display_reason(platform)
    if missing:
        return missing
    backend = os.environ.get("PYSTRAY_BACKEND", "")
    if backend in ("", "gtk", "appindicator"):
        prepare_gtk()
        try:
            import gi

            gi.require_version("Gtk", "3.0")
            from gi.repository import Gtk  # noqa: F401
        except (ImportError, ValueError) as err:
            return f"no GTK for the tray ({err})"
    if os.environ.get("DISPLAY") and not _tray_host_present():
        return NO_HOST
    if not backend:
        _prefer_a_working_backend()
    try:
        import pystray  # noqa: F401 - the import picks and loads the backend
    except Exception as err:
        return f"the tray backend does not load ({type(err).__name__}: {err})"
    return None


def _prefer_a_working_backend() -> None:
    """pystray tries AppIndicator first and falls back only on ImportError, but a missing
    AppIndicator typelib raises ValueError -- seen on a fresh Debian, where it would end the
    agent. Pick GTK (XEmbed) ourselves when no AppIndicator library is installed."""
    import gi

    for namespace in ("AyatanaAppIndicator3", "AppIndicator3"):
        try:
            gi.require_version(namespace, "0.1")
            return
        except ValueError:
            continue
    os.environ["PYSTRAY_BACKEND"] = "gtk"


def _tray_host_present() -> bool:
    """An XEMBED tray owns _NET_SYSTEM_TRAY_S<n>, or a StatusNotifierWatcher is on the bus."""
    try:
        from Xlib import display as xdisplay

        disp = xdisplay.Display()
        try:
            atom = disp.intern_atom(f"_NET_SYSTEM_TRAY_S{disp.get_default_screen()}")
            if disp.get_selection_owner(atom) != 0:
                return True
        finally:
            disp.close()
    except Exception as err:
        log.debug("XEMBED tray check failed: %s", err)
    try:
        import dbus

        return bool(dbus.SessionBus().name_has_owner("org.kde.StatusNotifierWatcher"))
    except Exception:
        return False
