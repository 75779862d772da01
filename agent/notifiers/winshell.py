"""The Win32 calls behind Windows balloons (`agent.notifiers.winballoon`): the process's one
notification-area icon, its `NIF_INFO` balloon, and the shell's messages about it.

Windows only (pystray's win32 backend and ctypes' `windll`); imported only by the Windows
notifier and the Windows tray.

The icon is pystray's own (`ShellIcon`, its win32 `Icon` hearing the balloon messages
pystray ignores): the tray makes it with `host.tray_icon`; a headless agent gets one made
at its first balloon, once, with no menu. Either way a notification never adds an icon.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traycourier.agent import APP_NAME

VISIBLE_WAIT_S = 10.0
"""How long a balloon waits for its icon to be in the notification area (the tray's icon is
shown just after the agent starts; a headless one's just after it is made)."""


@functools.cache
def shell_icon_class() -> type[Any]:
    """pystray's win32 icon, passing the balloon messages (which it drops) to `heard`."""
    from pystray._win32 import Icon

    from traycourier.agent.notifiers.winballoon import BALLOON_MESSAGES

    class ShellIcon(Icon):
        heard: Callable[[int], None] | None = None

        def _on_notify(self, wparam: int, lparam: int) -> Any:
            message = lparam & 0xFFFF
            if message in BALLOON_MESSAGES:
                if self.heard is not None:
                    self.heard(message)
                return 0
            return super()._on_notify(wparam, lparam)

        def _run_detached(self) -> None:
            """A daemon thread (pystray's is not): a headless `--once` or `self-test` must
            not wait for the icon's message loop to exit."""
            threading.Thread(target=self._run, name="balloon-icon", daemon=True).start()

    return ShellIcon


class Host:
    """The process's one icon, which every balloon comes from."""

    def __init__(self) -> None:
        self._icon: Any = None
        self._listener: Callable[[int], None] | None = None
        self._lock = threading.Lock()

    def tray_icon(self, name: str, image: Any, title: str | None, menu: Any) -> Any:
        """The tray's icon (`agent.tray.app` on Windows): balloons come from it."""
        icon = shell_icon_class()(name, image, title, menu)
        icon.heard = self._heard
        self._icon = icon
        return icon

    def icon(self, listener: Callable[[int], None]) -> Any:
        """The icon to show a balloon from, in the notification area; made here, once, for
        an agent without a tray. Raises OSError when the shell does not take it."""
        self._listener = listener
        with self._lock:
            if self._icon is None:
                from traycourier.agent.system import icons

                icon = shell_icon_class()(APP_NAME, icons.render("on"), APP_NAME, None)
                icon.heard = self._heard
                icon.run_detached()  # pystray's default setup makes it visible
                atexit.register(icon.stop)  # off the notification area when the agent ends
                self._icon = icon
            icon = self._icon
        deadline = time.monotonic() + VISIBLE_WAIT_S
        while not (icon.visible and icon._hwnd):
            if time.monotonic() > deadline:
                raise OSError("the notification area did not take traycourier's icon")
            time.sleep(0.05)
        return icon

    def _heard(self, message: int) -> None:
        listener = self._listener
        if listener is not None:
            listener(message)


host = Host()


def _notify(icon: Any, **fields: Any) -> None:
    from pystray._util import win32

    data = win32.NOTIFYICONDATAW(
        cbSize=ctypes.sizeof(win32.NOTIFYICONDATAW),
        hWnd=icon._hwnd,
        uID=0,  # pystray's own id for its icon: it names `hID`, not a field, so 0
        uFlags=win32.NIF_INFO,
        **fields,
    )
    if not win32.Shell_NotifyIcon(win32.NIM_MODIFY, data):
        raise OSError("Windows refused the balloon (Shell_NotifyIconW)")


def show_balloon(icon: Any, title: str, body: str, flags: int, ico: Path | None) -> None:
    """Raises OSError when the shell refuses it or its picture cannot be loaded."""
    handle = balloon_icon(str(ico)) if ico is not None else None
    _notify(icon, szInfo=body, szInfoTitle=title, dwInfoFlags=flags, hBalloonIcon=handle)


def remove_balloon(icon: Any) -> None:
    """An empty text takes the icon's balloon off the screen."""
    with contextlib.suppress(OSError):  # nothing was on screen any more
        _notify(icon, szInfo="")


@functools.lru_cache(maxsize=32)
def balloon_icon(ico: str) -> int:
    """A loaded .ico, kept: the same picture is shown again and again (its file is named by
    its content, so a changed picture is another file)."""
    from pystray._util import win32

    return int(
        win32.LoadImage(None, ico, win32.IMAGE_ICON, 0, 0,
                        win32.LR_DEFAULTSIZE | win32.LR_LOADFROMFILE)
    )  # fmt: skip
