"""The notifier backends, one class per mechanism, and the one chooser.

- `FreedesktopNotifier` (`agent.notifiers.freedesktop`): Linux, the notification server over DBus.
- `NotifySendNotifier`: Linux without jeepney, plyer's notify-send path (degraded).
- `BalloonNotifier` (`agent.notifiers.winballoon`): Windows, balloons of the agent's one icon.
- `PlyerNotifier`: plyer's facade where it is the way (macOS with pyobjus).
- `OsascriptNotifier`: macOS, where plyer's path gives nothing in a frozen or unsigned app.
- `RecordingNotifier` and `NullNotifier`: for tests and benchmarks (`--notifier record:PATH`,
  `--notifier null`); the recording one appends a JSON line per notification, so several
  processes can be checked.

`choose_backend` is pure (capabilities in, a name out); `default_notifier` applies it here.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from traycourier.agent import APP_NAME
from traycourier.agent.notifiers.notifier import Notifier, OsNotification, TextOnly
from traycourier.agent.policy import textfit
from traycourier.agent.system import ostype

log = logging.getLogger(__name__)

NOTIFY_SEND_URGENCY = {"urgent": "critical", "action": "normal", "warning": "normal", "info": "low"}


class PlyerNotifier(TextOnly):
    """`plyer.notification` where it is the way (macOS with pyobjus, any other platform
    plyer knows), with what plyer leaves out: knowing which implementation it picked (it
    decides once per process and silently falls back to a stub that only raises)."""

    may_block = True
    degraded = False
    needs_session_bus = False

    def __init__(self) -> None:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            from plyer import notification

            self.implementation = notification.__class__.__name__  # resolves plyer's Proxy
        self._notification = notification
        self.platform: str = ostype.current()
        self.name = f"plyer:{self.implementation}"
        self.available = self.implementation != "Notification"

    def describe(self) -> str:
        if not self.available:
            return "no notification backend (plyer found no implementation for this platform)"
        return self.name

    def problem(self) -> str | None:
        return None if self.available else self.describe()

    def show(self, notification: OsNotification) -> str | None:
        text = textfit.FittedText(notification.title, notification.body)
        self._notification.notify(
            title=text.title,
            message=text.body,
            app_name=notification.app_name,
            app_icon=notification.icon,
            timeout=10 if notification.display_s is None else notification.display_s,
        )
        return None


class NotifySendNotifier(TextOnly):
    """Linux without the DBus library (`agent.notifiers.freedesktop` needs jeepney): plyer's
    notify-send path, called with the arguments it really reads (its facade passes
    `app_icon` and `timeout`; it reads `icon`, `urgency` and `expire_time`). Nothing can
    ask the daemon what it parses, so the common case (body markup) is assumed and no text
    can be read as an option. It cannot tell a failure from a success: degraded."""

    name = "notify-send"
    available = True
    degraded = True
    needs_session_bus = True
    may_block = True
    platform = "linux"

    def __init__(self) -> None:
        from plyer.platforms.linux.notification import NotifySendNotification

        self._notify_send = NotifySendNotification()

    def describe(self) -> str:
        return f"{self.name} (degraded: it cannot report failures; install jeepney)"

    def problem(self) -> str | None:
        return None  # nothing to ask it with

    def show(self, notification: OsNotification) -> str | None:
        text = textfit.FittedText(notification.title, notification.body)
        safe = textfit.render(text, textfit.Rules(body_markup=True, command_line=True))
        seconds = notification.display_s
        self._notify_send._notify(
            title=safe.title,
            message=safe.body,
            app_name=notification.app_name,
            icon=notification.icon,
            urgency=NOTIFY_SEND_URGENCY.get(notification.priority, "normal"),
            expire_time=str(-1 if seconds is None else seconds * 1000),
            hint="string:desktop-entry:" + APP_NAME,
        )
        return None


class OsascriptNotifier(TextOnly):
    """macOS: `display notification` through osascript. plyer's macOS path uses the deprecated
    NSUserNotificationCenter, which gives nothing in a frozen or unsigned app; osascript works
    there. The text travels as arguments of `on run argv`, never inside the script."""

    name = "osascript"
    available = True
    degraded = False
    needs_session_bus = False
    may_block = True
    platform = "darwin"

    SCRIPT = (
        "on run argv",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "end run",
    )

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def command(self, notification: OsNotification) -> list[str]:
        args = ["osascript"]
        for line in self.SCRIPT:
            args += ["-e", line]
        text = textfit.FittedText(notification.title, notification.body)
        safe = textfit.render(text, textfit.Rules(command_line=True))
        return [*args, safe.title, safe.body]

    def show(self, notification: OsNotification) -> str | None:
        done = subprocess.run(
            self.command(notification), capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"osascript exited {done.returncode}: {done.stderr.strip()}")
        return None


class RecordingNotifier(TextOnly):
    """Appends each notification as a JSON line to a file; for tests and benchmarks."""

    name = "record"
    available = True
    degraded = False
    needs_session_bus = False

    def __init__(self, path: Path, delay_s: float = 0.0) -> None:
        self.path = path
        self.delay_s = delay_s
        self.may_block = delay_s > 0
        self.platform: str = ostype.current()
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.name} ({self.path})"

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        if self.delay_s:
            time.sleep(self.delay_s)  # stands in for a slow desktop round trip
        line = json.dumps({**asdict(notification), "shown_at": time.time()}, sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return None


class NullNotifier(TextOnly):
    """Shows nothing and always succeeds: measures the database path alone."""

    name = "null"
    available = True
    may_block = False
    degraded = False
    needs_session_bus = False
    platform = "linux"

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        return None


def choose_backend(platform: str, plyer_available: bool, plyer_shows_on_macos: bool) -> str:
    """Which notifier to use, by capability (pure): plyer wherever it can really show
    something; osascript on macOS when plyer cannot (frozen, unsigned, no pyobjus)."""
    if platform == "darwin" and not (plyer_available and plyer_shows_on_macos):
        return "osascript"
    return "plyer"


def _plyer_shows_on_macos() -> bool:
    try:
        from pyobjus import autoclass

        center = autoclass("NSUserNotificationCenter").defaultUserNotificationCenter()
    except Exception:  # pyobjus missing or broken: plyer cannot show anything
        return False
    return center is not None


def default_notifier() -> Notifier:
    """The notifier this OS gets; `run`, `doctor` and `self-test` all use this one: on Linux
    the freedesktop server spoken to directly (`notifiers.freedesktop`: buttons, clicks,
    updates in place), notify-send without its library; on Windows balloons; on macOS plyer where it
    can show anything, else osascript."""
    platform = ostype.current()
    if platform == "linux":
        try:
            import jeepney  # noqa: F401 -- a dependency on Linux

            from traycourier.agent.notifiers.freedesktop import FreedesktopNotifier
        except ImportError:
            return NotifySendNotifier()
        return FreedesktopNotifier()
    if platform == "windows":
        from traycourier.agent.notifiers.winballoon import BalloonNotifier

        return BalloonNotifier()
    plyer = PlyerNotifier()
    macos = platform == "darwin" and _plyer_shows_on_macos()
    if choose_backend(platform, plyer.available, macos) == "osascript":
        return OsascriptNotifier()
    return plyer


SPEC_HELP = "plyer, null or record:PATH[,delay=S]"


def from_spec(spec: str) -> Notifier:
    """`--notifier`: `plyer` (the default notifier for this OS), `null` or `record:PATH`.
    Raises ValueError with the accepted forms."""
    if spec == "plyer":
        return default_notifier()
    if spec == "null":
        return NullNotifier()
    if spec.startswith("record:") and len(spec) > len("record:"):
        target, _, delay = spec.removeprefix("record:").partition(",delay=")
        try:
            return RecordingNotifier(Path(target), delay_s=float(delay or 0))
        except ValueError:
            pass
    raise ValueError(f"--notifier takes {SPEC_HELP}, not {spec!r}")
