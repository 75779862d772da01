"""Can a tray icon be shown here, and by what? Where a StatusNotifier watcher runs on Linux,
by traycourier's own item (`agent.tray.snitem`: no GTK, no AppIndicator library); elsewhere by
a pystray backend. Answered before pystray is imported (its import alone fails, or its icon
waits forever, without a display or a host). `run`, `doctor` and `self-test` all ask here.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from collections.abc import Callable

from traycourier.agent.system import ostype, signals

log = logging.getLogger(__name__)


NO_HOST = "no tray host on the display (no system tray or status notifier)"
"""The one reason that can go away by itself: at login the panel often starts after us."""
NO_INDICATOR = (
    "PYSTRAY_BACKEND=appindicator and the AppIndicator library is missing "
    "(apt install gir1.2-ayatanaappindicator3-0.1)"
)


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


def own_item() -> bool:
    """Whether the icon is traycourier's own StatusNotifier item: on Linux, in a desktop
    session with a StatusNotifier watcher on the bus, unless `PYSTRAY_BACKEND` names a
    pystray backend (kept for hosts that misbehave with ours, and for tests)."""
    platform = ostype.current()
    if platform != "linux" or no_display_reason(platform):
        return False
    return not os.environ.get("PYSTRAY_BACKEND") and _sni_host()


def unavailable_reason() -> str | None:
    """Why a tray icon cannot be shown here, or None. Checked before pystray is imported,
    because pystray's import itself fails (or its icon waits forever) without a display."""
    platform = ostype.current()
    if platform != "linux":
        return None
    missing = no_display_reason(platform)
    if missing:
        return missing
    if own_item():
        return None
    backend = os.environ.get("PYSTRAY_BACKEND", "")
    if backend in ("", "gtk", "appindicator"):
        prepare_gtk()
        try:
            import gi

            gi.require_version("Gtk", "3.0")
            from gi.repository import Gtk  # noqa: F401
        except (ImportError, ValueError) as err:
            return f"no GTK for the tray ({err})"
    if not (_xembed_host() or _sni_host()):
        return NO_HOST
    if backend == "appindicator" and not _appindicator_available():
        return NO_INDICATOR
    if not backend:
        # no StatusNotifier watcher (`own_item`): pystray's GTK icon on the XEmbed tray, never
        # AppIndicator, whose XEmbed fallback has no tooltip and opens the menu on a left
        # click instead of the status; and pystray tries AppIndicator first, falling back
        # only on ImportError, where a missing typelib raises ValueError (it ended the agent)
        os.environ["PYSTRAY_BACKEND"] = "gtk"
    try:
        import pystray  # noqa: F401 - the import picks and loads the backend
    except Exception as err:
        return f"the tray backend does not load ({type(err).__name__}: {err})"
    return None


def _appindicator_available() -> bool:
    try:
        import gi
    except ImportError:
        return False

    for namespace in ("AyatanaAppIndicator3", "AppIndicator3"):
        try:
            gi.require_version(namespace, "0.1")
            return True
        except ValueError:
            continue
    return False


def _xembed_host() -> bool:
    """An XEmbed tray owns the selection _NET_SYSTEM_TRAY_S<screen> on the X display. Asked
    through libX11 itself (GTK has it loaded already): python-xlib's 40 modules cost the tray
    agent 1.6 MiB for three calls."""
    if not os.environ.get("DISPLAY"):
        return False
    try:
        x11 = ctypes.CDLL("libX11.so.6")
    except OSError as err:
        log.debug("XEMBED tray check: no libX11 (%s)", err)
        return False
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x11.XDefaultScreen.restype, x11.XDefaultScreen.argtypes = ctypes.c_int, [ctypes.c_void_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    if not display:
        log.debug("XEMBED tray check: cannot open the display %s", os.environ["DISPLAY"])
        return False
    try:
        name = f"_NET_SYSTEM_TRAY_S{x11.XDefaultScreen(display)}".encode()
        return bool(x11.XGetSelectionOwner(display, x11.XInternAtom(display, name, 0)))
    finally:
        x11.XCloseDisplay(display)


def _sni_host() -> bool:
    """A StatusNotifier watcher (the host side of AppIndicator icons) is on the session bus:
    the only kind of tray on Wayland."""
    from traycourier.agent.system import sessionbus

    try:
        return sessionbus.name_has_owner("org.kde.StatusNotifierWatcher")
    except Exception as err:  # a bus that answers oddly: no host we can count on
        log.debug("StatusNotifier watcher check failed: %s", err)
        return False


def quit_on_signals(backend: str, quit_app: Callable[[], None]) -> None:
    """SIGTERM/SIGINT/SIGHUP (logout, Ctrl-C) quit cleanly. GTK's main loop does not run
    Python signal handlers, so under GLib the signals are routed through it. Python's own
    handlers are set first, and stay recorded as Python's: PyGObject's `Gtk.main` puts its
    own SIGINT handler over GLib's when Python's is still the default, and that one ends the
    process by SIGINT after the loop (exit -2, no "stopped", leases left to expire)."""
    signals.on_stopping_signals(lambda _signum: quit_app())

    def on_glib_signal(sig: int) -> bool:
        log.info("signal %d: quitting", sig)
        quit_app()
        return False  # once is enough

    if backend.endswith(("._gtk", "._appindicator")):
        try:
            from gi.repository import GLib

            for sig in signals.STOPPING:
                GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, on_glib_signal, sig)
        except (ImportError, AttributeError):
            pass


def reclaim_sigint(backend: str, quit_app: Callable[[], None]) -> threading.Event | None:
    """Called once the icon's loop runs: pystray's GTK backends set SIGINT back to the
    default as that loop starts ("do not inhibit Ctrl-C"), and the default ends the process
    at once (exit -2, no "stopped", leases left to expire). Python's handler is set again
    from the loop's own thread (the main one); PyGObject's loop wakes for it. The event is
    set once it is in place: the caller says "Ctrl-C to quit" only then."""
    if not backend.endswith(("._gtk", "._appindicator")):
        return None
    try:
        from gi.repository import GLib
    except ImportError:
        return None
    done = threading.Event()

    def again() -> bool:
        signal.signal(signal.SIGINT, signals.handing_over(lambda _signum: quit_app()))
        done.set()
        return False  # once

    GLib.idle_add(again)
    return done
