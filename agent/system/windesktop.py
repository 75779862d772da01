"""Windows: traycourier's application identity (AUMID), and whether Windows shows banners now.

Windows 10 and 11 name a notification's sender by the process's AppUserModelID: without
one the header shows the executable's name, and the Settings app (per-app notifications,
Focus Assist's priority list) has no entry called traycourier. The MSI registers the id
(`HKCU\\Software\\Classes\\AppUserModelId\\<AUMID>`, with `DisplayName` and `IconUri`) and
sets it on its Start-menu shortcut; the program adopts it at start, only when it is
registered: an unregistered explicit id is reported to make notifications vanish.

Windows only (`winreg`, `windll`); every function answers None or False where it cannot tell.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
from typing import Any

log = logging.getLogger(__name__)

AUMID = "traycourier.agent"
IDENTITY_KEY = rf"Software\Classes\AppUserModelId\{AUMID}"
APP_SETTINGS_KEY = rf"Software\Microsoft\Windows\CurrentVersion\Notifications\Settings\{AUMID}"
ALL_TOASTS_KEY = r"Software\Microsoft\Windows\CurrentVersion\PushNotifications"

QUNS_ACCEPTS_NOTIFICATIONS = 5
HELD_BECAUSE = {
    1: "the screen is locked or the screen saver runs",
    2: "a full-screen program runs",
    3: "a full-screen Direct3D program runs",
    4: "presentation mode is on",
    6: "quiet time",
    7: "a full-screen app runs",
}
"""`SHQueryUserNotificationState`'s answers other than QUNS_ACCEPTS_NOTIFICATIONS: Windows
then shows no banner, and a notification goes to the Action Center only. It is the only
public question: Focus Assist's own state has no API, so it is named here only when
Windows reports it as one of these."""


def held_because(state: int | None) -> str | None:
    """Why Windows holds banners in this state (pure), or None when it shows them."""
    if state is None or state == QUNS_ACCEPTS_NOTIFICATIONS:
        return None
    return HELD_BECAUSE.get(state, f"Windows reports notification state {state}")


def notification_state() -> int | None:
    """SHQueryUserNotificationState's QUNS_* value, or None when it cannot be asked."""
    state = ctypes.c_int(0)
    try:
        result = ctypes.windll.shell32.SHQueryUserNotificationState(  # type: ignore[attr-defined]
            ctypes.byref(state)
        )
    except (AttributeError, OSError):
        return None
    return state.value if result == 0 else None


def banners_held() -> str | None:
    """Why Windows shows no banner right now, or None."""
    return held_because(notification_state())


def _value(key: str, name: str) -> object | None:
    winreg: Any = importlib.import_module("winreg")  # typeshed has it only for win32

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as opened:
            return winreg.QueryValueEx(opened, name)[0]
    except OSError:
        return None


def registered_name() -> str | None:
    """The identity's `DisplayName` when the installer registered it, else None."""
    name = _value(IDENTITY_KEY, "DisplayName")
    return str(name) if name else None


def switched_off() -> str | None:
    """Whether the user switched traycourier's (or all) notifications off in Settings."""
    if _value(ALL_TOASTS_KEY, "ToastEnabled") == 0:
        return "all notifications are switched off in Windows' settings"
    if _value(APP_SETTINGS_KEY, "Enabled") == 0:
        return "notifications from traycourier are switched off in Windows' settings"
    return None


def adopt() -> bool:
    """Run as traycourier's registered identity (before any window or icon exists); True
    when it does. Without the installer's registration the process keeps Windows' default."""
    if registered_name() is None:
        return False
    shell32 = ctypes.windll.shell32  # type: ignore[attr-defined]
    result = shell32.SetCurrentProcessExplicitAppUserModelID(ctypes.c_wchar_p(AUMID))
    if result != 0:
        log.warning("Windows refused the app identity %s (HRESULT %#x)", AUMID, result & 0xFFFFFFFF)
        return False
    return True
