"""The runtime's tick against a real SQLite file and a real PostgreSQL server, a scripted
notifier and an injected clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.conftest import execute, query, run_in_process
from tests.fakes import T0, Clock, ScriptedNotifier
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.notifier import OsNotification
from traycourier.store import Database, enqueue, timestamps, write_setting


def make(db: Database, notifier: ScriptedNotifier, clock: Clock, **config: object) -> Runtime:
    runtime = Runtime(
        db, notifier, RuntimeConfig(owner="A", **config), clock=clock, rand=lambda: 0.5
    )
    runtime.start()
    return runtime


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on a SQLite file and on a PostgreSQL server."""
    return any_db


def statuses(db: Database) -> list[tuple]:
    return query(
        db,
        "SELECT n.title, d.status, d.attempts, d.last_error_code "
        "FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id ORDER BY n.seq",
    )


def test_one_tick_shows_what_is_due_once(db: Database) -> None:
    enqueue(db, "build failed", "red", priority="urgent")
    notifier, clock = ScriptedNotifier(), Clock()
    runtime = make(db, notifier, clock)
    report = runtime.tick()
    runtime.tick()
    assert report.sent == 1
    assert [(n.title, n.body, n.priority) for n in notifier.shown] == [
        ("build failed", "red", "urgent")
    ]
    assert statuses(db) == [("build failed", "sent", 1, None)]


def test_a_burst_shows_the_most_important_and_one_summary(db: Database) -> None:
    for i in range(6):
        enqueue(db, f"n{i}", priority="urgent" if i == 4 else "action")
    notifier, clock = ScriptedNotifier(), Clock()
    make(db, notifier, clock).tick()
    assert [n.title for n in notifier.shown] == ["n4", "n0", "4 more notifications"]
    assert notifier.shown[-1].body == "• n5\n• n3\n• n2\nand 1 more"  # the newest first
    assert all(s[1] == "sent" for s in statuses(db))
    outcomes = query(
        db, "SELECT outcome, count(*) FROM notification_delivery_attempts GROUP BY outcome"
    )
    assert dict(outcomes) == {"sent": 2, "coalesced": 4}


def test_one_shown_to_the_action_center_only_is_sent_and_says_so(db: Database) -> None:
    """Windows held the banner (Focus Assist, full screen): shown, never retried, and the
    user can see where it went."""
    enqueue(db, "build failed", priority="action")
    notifier, clock = ScriptedNotifier(), Clock()
    notifier.quietly = True
    assert make(db, notifier, clock).tick().sent == 1
    assert statuses(db) == [("build failed", "sent", 1, "action_center")]
    popup = query(db, "SELECT external_id FROM notification_deliveries")
    assert popup == [("id1",)]
    if db.path is not None:
        listed = run_in_process("deliveries", db=db.path).stdout
        assert "shown to the Action Center only (Windows held its banner)" in listed


class DBusException(Exception):
    """Stands in for dbus-python's exception: errors are classified by type name and text."""


def test_a_missing_daemon_is_retried_with_backoff_and_fails_after_five(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    enqueue(db, "b", priority="urgent")
    unreachable = DBusException("org.freedesktop.DBus.Error.ServiceUnknown: nobody home")
    notifier, clock = ScriptedNotifier(fail=lambda n: unreachable), Clock()
    runtime = make(db, notifier, clock, lease_ttl_s=30)
    runtime.tick()
    # the head of the queue probes; the other waits, unshown and uncounted
    assert statuses(db) == [
        ("a", "retry_wait", 1, "daemon_unreachable"),
        ("b", "queued", 0, None),
    ]
    delays = []
    for _ in range(4):
        before = clock.now
        ((nxt,),) = query(db, "SELECT min(next_attempt_at) FROM notification_deliveries")
        clock.now = timestamps.parse(nxt)
        delays.append((clock.now - before).total_seconds())
        runtime.tick()
    assert delays == pytest.approx([1, 2, 4, 8])
    assert statuses(db)[0] == ("a", "failed", 5, "daemon_unreachable")
    assert notifier.calls == 5 + 1  # b's first attempt in the last tick


def test_a_hung_notifier_costs_one_timeout(db: Database) -> None:
    for title in ("a", "b", "c"):
        enqueue(db, title, priority="urgent")
    release = threading.Event()
    notifier = ScriptedNotifier(fail=lambda n: None if release.wait(5) else TimeoutError())
    clock = Clock()
    runtime = make(db, notifier, clock, notify_timeout_s=0.2)
    write_setting(db, "burst_limit", 0, T0)
    runtime.tick()
    release.set()
    assert notifier.calls == 1
    assert statuses(db) == [
        ("a", "retry_wait", 1, "timeout"),
        ("b", "queued", 0, None),
        ("c", "queued", 0, None),
    ]


def test_a_bad_row_fails_alone(db: Database) -> None:
    execute(db, "INSERT INTO notifications(title, priority) VALUES ('\x07\x1b', 'urgent')")
    enqueue(db, "fine", priority="urgent")
    notifier, clock = ScriptedNotifier(), Clock()
    make(db, notifier, clock).tick()
    assert statuses(db) == [("\x07\x1b", "failed", 1, "invalid"), ("fine", "sent", 1, None)]
    assert [n.title for n in notifier.shown] == ["fine"]


def test_pause_holds_and_resume_delivers(db: Database) -> None:
    write_setting(db, "paused_until", timestamps.fmt(T0 + timedelta(minutes=30)), T0)
    enqueue(db, "later", priority="urgent")
    notifier, clock = ScriptedNotifier(), Clock()
    runtime = make(db, notifier, clock)
    runtime.tick()
    assert notifier.shown == [] and statuses(db) == [("later", "queued", 0, None)]
    clock.advance(30 * 60 + 1)
    runtime.tick()
    assert [n.title for n in notifier.shown] == ["later"]


def test_switching_off_drops_what_waits(db: Database) -> None:
    write_setting(db, "paused_until", timestamps.fmt(T0 + timedelta(hours=1)), T0)
    enqueue(db, "a", priority="urgent")
    notifier, clock = ScriptedNotifier(), Clock()
    runtime = make(db, notifier, clock)
    runtime.tick()
    write_setting(db, "enable_notifications", False, T0)
    enqueue(db, "b", priority="urgent")
    runtime.tick()
    assert statuses(db) == [("a", "cancelled", 0, "disabled"), ("b", "skipped", 0, "disabled")]


def test_stop_returns_unshown_leases(db: Database) -> None:
    for title in ("a", "b"):
        enqueue(db, title, priority="urgent")
    notifier, clock = ScriptedNotifier(), Clock()
    runtime = make(db, notifier, clock)

    def stop_after_first(n: OsNotification) -> None:
        runtime.stop.set()
        return None

    notifier.fail = stop_after_first
    runtime.tick()
    runtime.close()
    assert statuses(db) == [("a", "sent", 1, None), ("b", "queued", 0, None)]
    ((stopped,),) = query(db, "SELECT stopped_at FROM agents")
    assert stopped is not None


def test_a_notifier_that_cannot_report_failures_is_shown_as_degraded(db: Database) -> None:
    notifier = ScriptedNotifier()
    notifier.degraded = True
    make(db, notifier, Clock())
    ((label,),) = query(db, "SELECT notifier FROM agents")
    assert label == "scripted (degraded: cannot report failures)"


def test_switching_off_also_drops_retries_that_are_not_due_yet(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    notifier = ScriptedNotifier(fail=lambda n: TimeoutError())
    clock = Clock()
    runtime = make(db, notifier, clock, notify_timeout_s=0.2)
    runtime.tick()
    assert statuses(db) == [("a", "retry_wait", 1, "timeout")]
    write_setting(db, "enable_notifications", False, T0)
    runtime.tick()  # the retry is a second away: not due, but it must go all the same
    assert statuses(db) == [("a", "cancelled", 1, "disabled")]
