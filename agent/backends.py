"""The notifier backends, one class per mechanism, and the one chooser.

- `PlyerNotifier`: plyer's notification facade (DBus on Linux, balloons on Windows).
- `OsascriptNotifier`: macOS, where plyer's path gives nothing in a frozen or unsigned app.
- `RecordingNotifier` and `NullNotifier`: for tests and benchmarks (`--notifier record:PATH`,
  `--notifier null`); the recording one appends a JSON line per notification, so several
  processes can be checked.

`choose_backend` is pure (capabilities in, a name out); `default_notifier` applies it here.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from traycourier.agent import APP_NAME, ostype
from traycourier.agent.notifier import Notifier, OsNotification

URGENCY = {"urgent": 2, "action": 1, "warning": 1, "info": 0}
"""freedesktop urgency levels: 0 low, 1 normal, 2 critical (stays until dismissed)."""


class PlyerNotifier:
    """`plyer.notification`, with what plyer leaves out: the urgency hint as the DBus type
    the spec names, and knowing which implementation plyer picked (it decides once per
    process and silently falls back to a stub that only raises)."""

    may_block = True

    def __init__(self) -> None:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            from plyer import notification

            self.implementation = notification.__class__.__name__  # resolves plyer's Proxy
        self._notification = notification
        self.platform = ostype.current()
        self.name = f"plyer:{self.implementation}"
        self.degraded = self.implementation in ("NotifySendNotification", "NotifyDesktopPortals")
        self.available = self.implementation != "Notification"
        self.body_markup = self.implementation == "NotifyDbus"
        self.command_line = self.implementation == "NotifySendNotification"
        self.needs_session_bus = self.implementation in ("NotifyDbus", "NotifySendNotification")

    def describe(self) -> str:
        if not self.available:
            return "no notification backend (plyer found no implementation for this platform)"
        if self.degraded:
            return f"{self.name} (degraded: it cannot report failures; install dbus-python)"
        return self.name

    def show(self, notification: OsNotification) -> str | None:
        hints: dict[str, object] = {}
        if self.implementation == "NotifyDbus":
            import dbus

            hints = {
                "urgency": dbus.Byte(URGENCY.get(notification.priority, 1)),
                "desktop-entry": dbus.String(APP_NAME),
            }
        self._notification.notify(
            title=notification.title,
            message=notification.body,
            app_name=notification.app_name,
            app_icon=notification.icon,
            timeout=notification.display_s,
            hints=hints,
        )
        return None


class OsascriptNotifier:
    """macOS: `display notification` through osascript. plyer's macOS path uses the deprecated
    NSUserNotificationCenter, which gives nothing in a frozen or unsigned app; osascript works
    there. The text travels as arguments of `on run argv`, never inside the script."""

    name = "osascript"
    available = True
    degraded = False
    needs_session_bus = False
    may_block = True
    platform = "darwin"
    body_markup = False
    command_line = True

    SCRIPT = (
        "on run argv",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "end run",
    )

    def describe(self) -> str:
        return self.name

    def command(self, notification: OsNotification) -> list[str]:
        args = ["osascript"]
        for line in self.SCRIPT:
            args += ["-e", line]
        return [*args, notification.title, notification.body]

    def show(self, notification: OsNotification) -> str | None:
        done = subprocess.run(
            self.command(notification), capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"osascript exited {done.returncode}: {done.stderr.strip()}")
        return None


class RecordingNotifier:
    """Appends each notification as a JSON line to a file; for tests and benchmarks."""

    name = "record"
    available = True
    degraded = False
    needs_session_bus = False
    body_markup = False
    command_line = False

    def __init__(self, path: Path, delay_s: float = 0.0) -> None:
        self.path = path
        self.delay_s = delay_s
        self.may_block = delay_s > 0
        self.platform = ostype.current()
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.name} ({self.path})"

    def show(self, notification: OsNotification) -> str | None:
        if self.delay_s:
            time.sleep(self.delay_s)  # stands in for a slow desktop round trip
        line = json.dumps({**asdict(notification), "shown_at": time.time()}, sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return None


class NullNotifier:
    """Shows nothing and always succeeds: measures the database path alone."""

    name = "null"
    available = True
    may_block = False
    degraded = False
    needs_session_bus = False
    body_markup = False
    command_line = False
    platform = "linux"

    def describe(self) -> str:
        return self.name

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
    """The notifier this OS gets; `run`, `doctor` and `self-test` all use this one."""
    plyer = PlyerNotifier()
    macos = plyer.platform == "darwin" and _plyer_shows_on_macos()
    if choose_backend(plyer.platform, plyer.available, macos) == "osascript":
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
