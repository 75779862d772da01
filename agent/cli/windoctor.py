"""`doctor` on Windows: what a balloon needs (its picture, the notification area), the app's
identity, and whether Windows shows banners now or keeps them for the Action Center."""

from __future__ import annotations

import ctypes

from traycourier.agent.cli.doctor import Check


def checks() -> list[Check]:
    return [icon(), shell(), identity(), banners()]


def icon() -> Check:
    """The notification icon made and loaded as a balloon loads it."""
    from traycourier.agent.notifiers import winshell
    from traycourier.agent.system import icons, paths

    try:
        ico = icons.windows_icon(paths.asset_path("traycourier.png"), paths.cache_dir())
        winshell.balloon_icon(str(ico))
    except Exception as err:
        return Check("notification icon", "fail", str(err), "reinstall traycourier")
    return Check("notification icon", "ok", str(ico))


def shell() -> Check:
    """The taskbar's notification area, where the icon and its balloons live."""
    if ctypes.windll.user32.FindWindowW("Shell_TrayWnd", None):  # type: ignore[attr-defined]
        return Check("shell tray", "ok", "the taskbar's notification area is there")
    return Check("shell tray", "fail", "no taskbar notification area", "sign in to a desktop")


def identity() -> Check:
    from traycourier.agent.system import windesktop

    name = windesktop.registered_name()
    if name is None:
        return Check(
            "app identity", "warn",
            f"{windesktop.AUMID} is not registered: Windows names the notifications by the "
            "program's file, and Settings has no entry for them",
            "install traycourier with its MSI",
        )  # fmt: skip
    return Check("app identity", "ok", f"{windesktop.AUMID} registered as {name}")


def banners() -> Check:
    from traycourier.agent.system import windesktop

    off = windesktop.switched_off()
    if off:
        return Check("windows notifications", "fail", off,
                     "Settings > System > Notifications: switch them on")  # fmt: skip
    held = windesktop.banners_held()
    if held:
        return Check(
            "windows notifications", "warn",
            f"banners are held now ({held}): notifications go to the Action Center only",
            "banners show again when that ends",
        )  # fmt: skip
    state = windesktop.notification_state()
    known = "" if state is not None else " (Windows did not say)"
    return Check("windows notifications", "ok", f"banners are shown{known}")
