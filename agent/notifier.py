"""Showing one notification on this OS, behind a small interface.

`PlyerNotifier` is the real one. Tests and benchmarks use `RecordingNotifier` (appends a
JSON line per notification, so several processes can be checked) or `NullNotifier`.
`show_within` runs any of them in a worker thread with a timeout, so a hung notification
daemon costs one timeout and never blocks the agent, and turns every failure into a
classified `NotifyError`.
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from agent import APP_NAME, errors

log = logging.getLogger(__name__)

URGENCY = {"urgent": 2, "action": 1, "warning": 1, "info": 0}
"""freedesktop urgency levels: 0 low, 1 normal, 2 critical (stays until dismissed)."""


@dataclass(frozen=True)
class OsNotification:
    title: str
    body: str
    priority: str
    app_name: str = APP_NAME
    icon: str = ""
    display_s: int = 10


class NotifyError(Exception):
    def __init__(self, error_class: errors.ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


class InvalidNotification(Exception):
    """The row cannot be shown at all (for example an empty title)."""


class Notifier(Protocol):
    name: str
    degraded: bool
    """True when this path cannot report failures (plyer's notify-send path)."""
    platform: str
    body_markup: bool
    command_line: bool
    may_block: bool
    """False only for notifiers that cannot hang (in-process test doubles): they are called
    directly instead of on the watchdog thread."""

    def show(self, notification: OsNotification) -> str | None:
        """Show it; return the OS's id for it when there is one. Raise on failure."""
        ...


def current_platform() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


class PlyerNotifier:
    """`plyer.notification`, with what plyer leaves out: the urgency hint as the DBus type
    the spec names, and knowing which implementation plyer picked (it decides once per
    process and silently falls back to a stub that only raises)."""

    def __init__(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from plyer import notification

            self.implementation = notification.__class__.__name__  # resolves plyer's Proxy
        self._notification = notification
        self._warnings = [str(w.message).splitlines()[0] for w in caught]
        self.platform = current_platform()
        self.name = f"plyer:{self.implementation}"
        self.may_block = True
        self.degraded = self.implementation in ("NotifySendNotification", "NotifyDesktopPortals")
        self.available = self.implementation != "Notification"
        self.body_markup = self.implementation == "NotifyDbus"
        self.command_line = self.implementation == "NotifySendNotification"

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


class RecordingNotifier:
    """Appends each notification as a JSON line to a file; for tests and benchmarks."""

    name = "record"
    degraded = False
    body_markup = False
    command_line = False

    def __init__(self, path: Path, delay_s: float = 0.0) -> None:
        self.path = path
        self.delay_s = delay_s
        self.may_block = delay_s > 0
        self.platform = current_platform()
        self._lock = threading.Lock()

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
    may_block = False
    degraded = False
    body_markup = False
    command_line = False
    platform = "linux"

    def show(self, notification: OsNotification) -> str | None:
        return None


_Job = tuple[Callable[[], object], dict[str, object], threading.Event]


class _Caller:
    """Runs notifier calls one after another on a long-lived daemon thread (a thread per call
    costs more than a fast notifier itself). A call that times out is abandoned together
    with its thread -- a daemon, so it cannot keep the process alive -- and the next call gets
    a fresh thread. plyer's DBus path gives up by itself after DBus's own 25 s timeout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job] | None = None

    def _queue(self) -> queue.SimpleQueue[_Job]:
        with self._lock:
            if self._jobs is None:
                jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
                threading.Thread(
                    target=self._serve, args=(jobs,), name="notify", daemon=True
                ).start()
                self._jobs = jobs
            return self._jobs

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[_Job]) -> None:
        while True:
            func, box, done = jobs.get()
            try:
                box["value"] = func()
            except BaseException as err:  # everything must reach the caller as data
                box["error"] = err
            done.set()

    @staticmethod
    def run(func: Callable[[], object]) -> dict[str, object]:
        """Run on this thread, boxing the result like `call` does."""
        try:
            return {"value": func()}
        except Exception as err:
            return {"error": err}

    def call(self, func: Callable[[], object], timeout_s: float) -> dict[str, object] | None:
        """The call's {"value"} or {"error"}, or None when it did not finish in time."""
        jobs = self._queue()
        box: dict[str, object] = {}
        done = threading.Event()
        jobs.put((func, box, done))
        if done.wait(timeout_s):
            return box
        with self._lock:
            if self._jobs is jobs:
                self._jobs = None  # that thread is stuck; the next call starts another
        return None


_caller = _Caller()


def show_within(notifier: Notifier, notification: OsNotification, timeout_s: float) -> str | None:
    """Call `notifier.show` off this thread with a timeout; raise NotifyError on any failure."""
    if notifier.may_block:
        result = _caller.call(lambda: notifier.show(notification), timeout_s)
    else:
        result = _caller.run(lambda: notifier.show(notification))
    if result is None:
        raise NotifyError(errors.TIMEOUT, f"the notifier did not answer within {timeout_s:g} s")
    if "error" in result:
        err = result["error"]
        assert isinstance(err, BaseException)
        message = " ".join(str(err).split()) or type(err).__name__
        raise NotifyError(errors.classify(type(err).__name__, message), message[:500]) from err
    value = result.get("value")
    return None if value is None else str(value)


class OsascriptNotifier:
    """macOS: `display notification` through osascript. plyer's macOS path uses the deprecated
    NSUserNotificationCenter, which gives nothing in a frozen or unsigned app; osascript works
    there. The text travels as arguments of `on run argv`, never inside the script."""

    name = "osascript"
    degraded = False
    may_block = True
    platform = "darwin"
    body_markup = False
    command_line = True

    SCRIPT = (
        "on run argv",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "end run",
    )

    def command(self, notification: OsNotification) -> list[str]:
        args = ["osascript"]
        for line in self.SCRIPT:
            args += ["-e", line]
        return [*args, notification.title, notification.body]

    def show(self, notification: OsNotification) -> str | None:
        import subprocess

        done = subprocess.run(
            self.command(notification), capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"osascript exited {done.returncode}: {done.stderr.strip()}")
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
    plyer = PlyerNotifier()
    macos = plyer.platform == "darwin" and _plyer_shows_on_macos()
    if choose_backend(plyer.platform, plyer.available, macos) == "osascript":
        return OsascriptNotifier()
    return plyer
