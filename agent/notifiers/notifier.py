"""Showing one notification on this OS, behind a small interface.

The backends (plyer, osascript, and the test doubles) are in `notifiers.backends`, with the
one chooser that picks the backend for this OS. `show_within` runs any of them in a worker
thread with a timeout, so a hung notification daemon costs one timeout and never blocks the
agent, and turns every failure into a classified `NotifyError`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from traycourier.agent import APP_NAME
from traycourier.agent.policy import errors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OsNotification:
    title: str
    body: str
    priority: str
    app_name: str = APP_NAME
    icon: str = ""
    display_s: int | None = 10
    """Seconds on screen; None = the server's default (urgent: a critical notification is
    kept by the server anyway; 0, "never expire", makes some servers show a modal dialog)."""
    buttons: tuple[tuple[str, str], ...] = ()
    """(key, label) of each button, in order; "default" is a click on the popup itself."""
    replaces: str | None = None
    """The id this notifier gave a popup that this one updates in place (same tag)."""
    progress: int | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a notifier can do beyond showing text, for `doctor`, `self-test` and callers."""

    actions: bool = False
    """Buttons with the producer's labels."""
    click: bool = False
    """A click on the popup comes back (its first link opens, it is marked read)."""
    replace: bool = False
    """A popup can be updated in place (same tag) and closed by the agent."""
    progress: bool = False
    """A progress bar (the `value` hint)."""

    def describe(self) -> str:
        names = [
            name for name in ("actions", "click", "replace", "progress") if getattr(self, name)
        ]
        return ", ".join(names) or "text only (answers and links from the tray's Recent menu)"


CLICK = "default"
"""The action key of a click on the popup itself (the freedesktop spec's)."""


@dataclass(frozen=True)
class Shown:
    """What a notifier may return from `show` besides the popup's id alone."""

    popup: str | None
    quietly: bool = False
    """The OS took it but held its banner (Windows in Focus Assist, a presentation, full
    screen): it is in the Action Center only, and the delivery records that."""


class PopupEvents(Protocol):
    """What the user did with a popup, as its notifier hears it (on the notifier's thread)."""

    def action(self, popup: str, key: str) -> None: ...

    def closed(self, popup: str, reason: str) -> None:
        """`reason`: expired, dismissed, closed (by an agent) or undefined."""
        ...

    def server_returned(self) -> None:
        """The notification server's name has an owner again (it started, or restarted)."""
        ...


class TextOnly:
    """For notifiers that show text and hear nothing back (balloons, osascript, the test
    doubles): no buttons, no updates in place, nothing to listen to."""

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def close(self, popup: str) -> None:
        """Nothing to close: such a popup goes by itself."""

    def listen(self, events: PopupEvents) -> None:
        """Nothing comes back."""

    def stop_listening(self) -> None:
        """Nothing to stop."""


class NotifyError(Exception):
    def __init__(self, error_class: errors.ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


class InvalidNotification(Exception):
    """The row cannot be shown at all (for example an empty title)."""


class Notifier(Protocol):
    """One way of showing notifications. What a caller may need to know about it is here, so
    no caller has to ask which class it has."""

    name: str
    available: bool
    """False when it cannot show anything at all (plyer found no backend for this OS)."""
    degraded: bool
    """True when this path cannot report failures (plyer's notify-send path)."""
    needs_session_bus: bool
    """True when it talks to a freedesktop notification daemon on the DBus session bus."""
    platform: str
    may_block: bool
    """False only for notifiers that cannot hang (in-process test doubles): they are called
    directly instead of on the watchdog thread."""

    def describe(self) -> str:
        """One line for `doctor` and the log: what it is, and what is wrong with it."""
        ...

    def problem(self) -> str | None:
        """Why nothing could be shown right now (no daemon on the bus), cheaply; or None.
        The tray asks after every tick, so it shows attention before a delivery fails."""
        ...

    def show(self, notification: OsNotification) -> str | Shown | None:
        """Show it (plain text: the notifier makes it safe for its own mechanism); return
        the OS's id for it when there is one. Raise on failure."""
        ...

    def capabilities(self) -> Capabilities: ...

    def close(self, popup: str) -> None:
        """Take a popup it showed off the screen (answered or read elsewhere)."""
        ...

    def listen(self, events: PopupEvents) -> None:
        """Start telling `events` about clicks, answers and closed popups."""
        ...

    def stop_listening(self) -> None: ...


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


def show_within(notifier: Notifier, notification: OsNotification, timeout_s: float) -> Shown:
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
    if isinstance(value, Shown):
        return value
    return Shown(None if value is None else str(value))
