"""The test doubles more than one test module uses, in one place: a clock the test moves,
in-process notifiers that keep what they were asked to show, and a waker that never waits.
They stand in for logic tests only; what a user sees is proven on real daemons
(tests/desktop)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from traycourier.agent.notifiers.notifier import OsNotification, TextOnly
from traycourier.agent.notifiers.notifier import Shown as ShownBy

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedNotifier(TextOnly):
    """Records what it shows; `fail` decides per call whether to raise instead."""

    name = "scripted"
    available = True
    needs_session_bus = False
    may_block = True
    degraded = False
    platform = "linux"

    def __init__(self, fail: Callable[[OsNotification], BaseException | None] | None = None):
        self.shown: list[OsNotification] = []
        self.calls = 0
        self.fail = fail
        self.quietly = False
        """Say, as Windows' notifier does in Focus Assist, that only the Action Center got it."""

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | ShownBy | None:
        self.calls += 1
        if self.fail is not None:
            err = self.fail(notification)
            if err is not None:
                raise err
        self.shown.append(notification)
        popup = f"id{len(self.shown)}"
        return ShownBy(popup, quietly=True) if self.quietly else popup


class Shown(TextOnly):
    """An in-process notifier that keeps what it was asked to show."""

    name = "shown"
    available = True
    degraded = False
    needs_session_bus = False
    may_block = False
    platform = "linux"

    def __init__(self) -> None:
        self.titles: list[str] = []

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        self.titles.append(notification.title)
        return None


class NoWaker:
    def mark(self) -> None: ...
    def poke(self) -> None: ...
    def pause(self, timeout_s: float, stop: object) -> None: ...
    def follow(self, paths: object, probe: object = None) -> None: ...
