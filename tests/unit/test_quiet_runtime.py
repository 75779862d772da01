"""Quiet hours, pauses and snoozes in the runtime's tick, against a real file with an
injected clock and zone: what is held, what breaks through, when the agent wakes (and that a
held notification never makes it spin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.fakes import Clock, ScriptedNotifier
from tests.unit.test_runtime import make, statuses
from traycourier.agent.engine import controls
from traycourier.store import Database, enqueue, timestamps, write_setting

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on a SQLite file and on a PostgreSQL server."""
    return any_db


def at_berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def settings(db: Database, **values: object) -> None:
    for key, value in values.items():
        write_setting(db, key, value, at_berlin(2026, 11, 28, 12, 0))


def test_a_pause_with_a_held_notification_sleeps_instead_of_spinning(db: Database) -> None:
    clock = Clock()
    settings(db, paused_until=timestamps.fmt(clock.now + timedelta(hours=1)))
    enqueue(db, "later", priority="urgent")
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock)
    runtime.tick()
    assert statuses(db) == [("later", "queued", 0, None)]
    assert runtime.next_wake_s() > 1  # was 0: the held row is due, so the loop ran hot
    clock.now += timedelta(hours=1)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["later"]


def test_quiet_hours_hold_the_quiet_ones_and_let_urgent_through(db: Database) -> None:
    settings(db, quiet_hours="22:00-07:00", min_priority="info")
    clock = Clock()
    clock.now = at_berlin(2026, 11, 28, 23, 30)
    enqueue(db, "backup done", priority="info")
    enqueue(db, "disk failing", priority="urgent")
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock, zone=BERLIN)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["disk failing"]
    assert ("backup done", "queued", 0, None) in statuses(db)
    assert runtime.next_wake_s() > 1  # held, so no hot loop

    clock.now = at_berlin(2026, 11, 29, 6, 59, 50)
    runtime.tick()
    assert len(notifier.shown) == 1
    assert 9 < runtime.next_wake_s() <= 10.01  # it wakes for the end of quiet hours
    clock.now = at_berlin(2026, 11, 29, 7, 0)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["disk failing", "backup done"]


def test_the_breakthrough_level_and_weekday_rule_are_the_users(db: Database) -> None:
    settings(
        db,
        quiet_hours="22:00-07:00",
        min_priority="info",
        quiet_breakthrough="action",
        quiet_weekdays_only=True,
    )
    clock = Clock()
    clock.now = at_berlin(2026, 11, 25, 23, 0)  # a Wednesday night
    enqueue(db, "deploy needs approval", priority="action")
    enqueue(db, "fyi", priority="warning")
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock, zone=BERLIN)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["deploy needs approval"]
    clock.now = at_berlin(2026, 11, 28, 23, 0)  # Saturday night: not quiet
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["deploy needs approval", "fyi"]


def test_the_agent_wakes_when_a_mute_ends(db: Database) -> None:
    from traycourier.store import mutes

    clock = Clock()
    mutes.mute(db, "backup", clock.now + timedelta(seconds=12), True, clock.now)
    runtime = make(db, ScriptedNotifier(), clock)
    runtime.tick()
    assert 11 < runtime.next_wake_s() <= 12.01


def test_a_mute_and_quiet_hours_together(db: Database) -> None:
    """The mute decides at routing (skipped, never shown later, urgent too unless the mute
    says otherwise); quiet hours hold what is left; the end of each wakes the agent."""
    from traycourier.store import mutes

    settings(db, quiet_hours="22:00-07:00", min_priority="info")
    clock = Clock()
    clock.now = at_berlin(2026, 11, 28, 23, 0)
    mutes.mute(db, "backup", at_berlin(2026, 11, 29, 1, 0), True, clock.now)
    mutes.mute(db, "ci", None, False, clock.now)  # except urgent
    for title, source, priority in [
        ("backup urgent", "backup", "urgent"),
        ("ci urgent", "ci", "urgent"),
        ("ci info", "ci", "info"),
        ("cron info", "cron", "info"),
    ]:
        enqueue(db, title, source=source, priority=priority)
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock, zone=BERLIN)
    runtime.tick()
    # breaks through, and its source leads the title
    assert [n.title for n in notifier.shown] == ["ci: ci urgent"]
    assert sorted(statuses(db)) == [
        ("backup urgent", "skipped", 0, "muted"),
        ("ci info", "skipped", 0, "muted"),
        ("ci urgent", "sent", 1, None),
        ("cron info", "queued", 0, None),  # held by quiet hours
    ]
    clock.now = at_berlin(2026, 11, 29, 0, 59, 50)
    runtime.tick()
    assert 9 < runtime.next_wake_s() <= 10.01  # it wakes for the mute's end, not only at 07:00
    clock.now = at_berlin(2026, 11, 29, 1, 0)  # the backup mute ends at this second
    enqueue(db, "backup later", source="backup", priority="info")
    runtime.tick()
    assert ("backup later", "queued", 0, None) in statuses(db)  # now only quiet holds it
    clock.now = at_berlin(2026, 11, 29, 7, 0)
    runtime.tick()
    assert sorted(n.title for n in notifier.shown) == [
        "backup: backup later",
        "ci: ci urgent",
        "cron: cron info",
    ]


def test_a_snoozed_one_is_shown_again_when_due_and_quiet_hours_hold_it(db: Database) -> None:
    settings(db, quiet_hours="22:00-07:00", min_priority="info")
    clock = Clock()
    clock.now = at_berlin(2026, 11, 28, 21, 50)
    ntf = enqueue(db, "build red", priority="action").id
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock, zone=BERLIN)
    runtime.tick()
    controls.snooze(db, ntf, clock.now + timedelta(minutes=5), clock.now)
    clock.now += timedelta(minutes=4, seconds=50)
    runtime.tick()
    assert len(notifier.shown) == 1
    assert 9 < runtime.next_wake_s() <= 10.01  # it wakes for the snooze's end
    clock.now += timedelta(seconds=10)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["build red", "build red"]
    assert statuses(db) == [("build red", "sent", 2, None)]

    controls.snooze(db, ntf, clock.now + timedelta(minutes=10), clock.now)  # due at 22:05
    clock.now += timedelta(minutes=10)
    runtime.tick()
    assert len(notifier.shown) == 2  # quiet hours hold it like any other
    assert statuses(db) == [("build red", "queued", 2, "snoozed")]
    clock.now = at_berlin(2026, 11, 29, 7, 0)
    runtime.tick()
    assert len(notifier.shown) == 3


def test_switched_off_with_a_kept_snooze_due_it_sleeps_instead_of_spinning(
    db: Database,
) -> None:
    """Switching off keeps a snooze (issue 26); while off, its due time must not wake the
    loop again and again, and on again it is shown."""
    clock = Clock()
    notifier = ScriptedNotifier()
    runtime = make(db, notifier, clock)
    ntf = enqueue(db, "call back", priority="urgent").id
    runtime.tick()
    controls.snooze(db, ntf, clock.now + timedelta(minutes=10), clock.now)
    settings(db, enable_notifications=False)
    runtime.tick()
    clock.now += timedelta(minutes=11)  # the snooze is due, while off
    runtime.tick()
    assert statuses(db) == [("call back", "queued", 1, "snoozed")]
    assert runtime.next_wake_s() > 1  # was 0.001: the due row woke the loop at once
    settings(db, enable_notifications=True)
    runtime.tick()
    assert statuses(db) == [("call back", "sent", 2, None)]
