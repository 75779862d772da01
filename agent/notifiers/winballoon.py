"""Windows: notifications as balloons of the agent's one notification-area icon.

plyer's `WindowsBalloonTip` made a hidden window and a second tray icon for every
notification (an icon that appeared and vanished beside ours, and took its Action Center
entry with it), ran in a thread of its own (its failures never reached the caller), and
heard nothing back. Here every balloon is the `NIF_INFO` balloon of one icon
(`agent.notifiers.winshell`): the tray's own while the tray runs, one made once for a
headless agent. A refused balloon raises, so the delivery records the error; a click on it
(`NIN_BALLOONUSERCLICK`) is the same `PopupEvents.action(popup, "default")` as a click on a
Linux popup (the first link opens, the notification is marked read); its end
(`NIN_BALLOONTIMEOUT`) is recorded like `NotificationClosed`.

The shell's messages do not say which balloon they are about: an icon has one balloon at a
time, and a newer one takes the older one's place, so they are about the newest
(`Balloons`, pure, tested on any OS).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from traycourier.agent.notifiers.notifier import (
    CLICK,
    Capabilities,
    OsNotification,
    PopupEvents,
    Shown,
)
from traycourier.agent.policy import textfit

log = logging.getLogger(__name__)

NIN_BALLOONSHOW = 0x402
NIN_BALLOONHIDE = 0x403
NIN_BALLOONTIMEOUT = 0x404
NIN_BALLOONUSERCLICK = 0x405
BALLOON_MESSAGES = frozenset({NIN_BALLOONSHOW, NIN_BALLOONHIDE, NIN_BALLOONTIMEOUT,
                              NIN_BALLOONUSERCLICK})  # fmt: skip

NIIF_USER = 0x4
NIIF_NOSOUND = 0x10
NIIF_LARGE_ICON = 0x20
NIIF_RESPECT_QUIET_TIME = 0x80

CLOSED_BY_SHELL = "undefined"
"""What `NIN_BALLOONTIMEOUT` is recorded as: Windows sends the same message when the balloon
timed out and when the user closed it, so it is neither `expired` nor `dismissed` (the
spec's "undefined"). A producer waiting for an answer keeps waiting: the answer can still
come from the tray's Recent menu."""


def info_flags(priority: str, own_icon: bool) -> int:
    """`dwInfoFlags` of one balloon (pure): the notification's picture as a large icon when
    it has one; every priority but urgent respects the user's quiet time (Windows' first hour
    after a new user's first sign-in); info ones make no sound."""
    flags = NIIF_USER | NIIF_LARGE_ICON if own_icon else 0
    if priority != "urgent":
        flags |= NIIF_RESPECT_QUIET_TIME
    if priority == "info":
        flags |= NIIF_NOSOUND
    return flags


def balloon_text(text: textfit.FittedText) -> tuple[str, str]:
    """(szInfoTitle, szInfo): an empty szInfo removes the balloon instead of showing it, so a
    notification with no body shows its title as the balloon's text."""
    if text.body:
        return text.title, text.body
    return "", text.title


@dataclass(frozen=True)
class Heard:
    """What a shell message means for one popup: `click` or `closed` (with its reason)."""

    popup: str
    kind: str
    reason: str = ""


class Balloons:
    """Which balloon is on screen, and what the shell's messages mean (pure: the messages
    in, the popup they are about out)."""

    def __init__(self) -> None:
        self.current: str | None = None

    def showing(self, popup: str) -> None:
        self.current = popup

    def heard(self, message: int) -> Heard | None:
        """A click acts on the newest balloon even after its timeout (Windows 10 and later
        keep it in the Action Center, where it can still be clicked); its end is told once."""
        popup = self.current
        if popup is None:
            return None
        if message == NIN_BALLOONUSERCLICK:
            return Heard(popup, "click")
        if message == NIN_BALLOONTIMEOUT:
            return Heard(popup, "closed", CLOSED_BY_SHELL)
        return None

    def closing(self, popup: str) -> bool:
        """True when `popup` is the balloon on screen (and so can be taken off it)."""
        return popup == self.current


class BalloonNotifier:
    """The Windows notifier: a balloon of the agent's one icon per notification."""

    name = "windows-balloon"
    available = True
    degraded = False
    needs_session_bus = False
    may_block = True
    platform = "windows"

    def __init__(self) -> None:
        self._balloons = Balloons()
        self._count = 0
        self._run = f"{os.getpid()}.{int(time.time())}"
        self._events: queue.SimpleQueue[Heard] | None = None

    def describe(self) -> str:
        return f"{self.name} (the NIF_INFO balloon of traycourier's own notification icon)"

    def problem(self) -> str | None:
        return None

    def capabilities(self) -> Capabilities:
        return Capabilities(click=True)

    def show(self, notification: OsNotification) -> Shown:
        from traycourier.agent.notifiers import winshell
        from traycourier.agent.system import icons, paths, windesktop

        ico = None
        if notification.icon:
            ico = icons.windows_icon(Path(notification.icon), paths.cache_dir())
        title, body = balloon_text(textfit.FittedText(notification.title, notification.body))
        icon = winshell.host.icon(self._heard)
        winshell.show_balloon(icon, title, body, info_flags(notification.priority, bool(ico)),
                              ico)  # fmt: skip
        self._count += 1
        popup = f"balloon/{self._run}/{self._count}"
        self._balloons.showing(popup)
        return Shown(popup, quietly=windesktop.banners_held() is not None)

    def close(self, popup: str) -> None:
        if self._balloons.closing(popup):
            from traycourier.agent.notifiers import winshell

            winshell.remove_balloon(winshell.host.icon(self._heard))

    def listen(self, events: PopupEvents) -> None:
        """The shell's messages arrive on the icon's thread (the tray's UI thread): they are
        handed to a thread of their own, so a click's database write never blocks the menu."""
        heard: queue.SimpleQueue[Heard] = queue.SimpleQueue()
        self._events = heard
        threading.Thread(target=_tell, args=(heard, events), name="balloons", daemon=True).start()

    def stop_listening(self) -> None:
        self._events = None

    def _heard(self, message: int) -> None:
        found = self._balloons.heard(message)
        target = self._events
        if found is not None and target is not None:
            target.put(found)


def _tell(heard: queue.SimpleQueue[Heard], events: PopupEvents) -> None:
    while True:
        found = heard.get()
        try:
            if found.kind == "click":
                events.action(found.popup, CLICK)
            else:
                events.closed(found.popup, found.reason)
        except Exception:  # one bad event never ends the listener
            log.exception("could not act on balloon %s (%s)", found.popup, found.kind)
