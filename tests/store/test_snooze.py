"""Snoozing a shown notification: it comes back at the chosen time as the next attempt of
the same delivery, recorded as such; what was never shown cannot be snoozed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import execute, query
from tests.store.test_state_machine import T0, TTL, attempts, route, rows
from traycourier.store import Database, InvalidInput, enqueue
from traycourier.store.choices import Mute
from traycourier.store.housekeeping import next_event_at, snooze
from traycourier.store.leases import claim
from traycourier.store.marks import mark
from traycourier.store.model import Outcome
from traycourier.store.model import OutcomeKind as K
from traycourier.store.queries import mark_read


def show(db: Database, at: datetime = T0) -> int:
    (claimed,) = claim(db, "agent-1", at, TTL, 10)
    mark(db, "agent-1", [Outcome(claimed, K.SENT, external_id="x")], at)
    return claimed.attempt_no


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on a SQLite file and on a PostgreSQL server."""
    return any_db


def snooze_columns(db: Database) -> tuple:
    (row,) = query(
        db,
        "SELECT status, next_attempt_at, snoozed_until, last_error_code, max_attempts "
        "FROM notification_deliveries",
    )
    return row


def test_a_snoozed_one_comes_back_as_the_next_attempt_of_the_same_delivery(
    db: Database,
) -> None:
    ntf = enqueue(db, "disk full", priority="urgent").id
    route(db)
    assert show(db) == 1
    later = T0 + timedelta(minutes=10)
    snooze(db, ntf, later, T0 + timedelta(seconds=5))
    stamp = "2026-11-28 12:10:00.000000"
    assert snooze_columns(db) == ("queued", stamp, stamp, "snoozed", 1 + 5)
    assert rows(db) == [("disk full", "queued", 1, "snoozed")]
    assert next_event_at(db) == later  # the agent wakes for it, not before
    assert claim(db, "agent-1", later - timedelta(microseconds=1), TTL, 10) == []
    assert show(db, later) == 2
    assert rows(db) == [("disk full", "sent", 2, None)]
    assert snooze_columns(db)[2] == stamp  # a re-shown one stays told apart
    delivery = attempts(db)[0][0]
    assert attempts(db) == [
        (delivery, 1, "agent-1", "sent", None),
        (delivery, 2, "agent-1", "sent", None),
    ]


def test_a_waiting_snooze_takes_a_new_time(db: Database) -> None:
    ntf = enqueue(db, "a", priority="urgent").id
    route(db)
    show(db)
    snooze(db, ntf, T0 + timedelta(minutes=10), T0)
    snooze(db, ntf, T0 + timedelta(hours=1), T0)
    assert snooze_columns(db)[1] == "2026-11-28 13:00:00.000000"


@pytest.mark.parametrize(
    ("priority", "why"),
    [
        ("urgent", "is queued; only a notification that was shown"),
        ("info", "is skipped; only a notification that was shown"),  # below minimum
    ],
)
def test_what_was_not_shown_is_refused_and_left_as_it_was(
    db: Database, priority: str, why: str
) -> None:
    ntf = enqueue(db, "a", priority=priority).id
    route(db)
    before = rows(db)
    with pytest.raises(InvalidInput, match=why):
        snooze(db, ntf, T0 + timedelta(minutes=10), T0)
    assert rows(db) == before


def test_an_unknown_id_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="no notification 'ntf_nope'"):
        snooze(db, "ntf_nope", T0, T0)


def test_a_mute_skips_what_waits_of_its_source_snoozed_ones_too(db: Database) -> None:
    """Issue 26: "Mute backup for 1 hour" on a held entry, then Resume, popped it up. A mute
    applies to what waits (queued, held, snoozed) as to what comes; urgent ones stay when
    the mute lets them by, and another source is untouched."""
    snoozed = enqueue(db, "nightly", priority="action", source="backup").id
    route(db)
    show(db)
    snooze(db, snoozed, T0 + timedelta(minutes=10), T0)
    enqueue(db, "held", priority="action", source="backup")
    enqueue(db, "disk failing", priority="urgent", source="backup")
    enqueue(db, "build done", priority="action", source="ci")
    route(db)
    skipped = db.skip_muted(Mute("backup", None, urgent_too=False), T0)
    assert skipped == 2
    assert sorted(rows(db)) == [
        ("build done", "queued", 0, None),
        ("disk failing", "queued", 0, None),
        ("held", "skipped", 0, "muted"),
        ("nightly", "skipped", 1, "muted"),
    ]
    assert db.skip_muted(Mute("backup", None, urgent_too=True), T0) == 1  # urgent too now
    assert db.skip_muted(Mute("backup", None, urgent_too=True), T0) == 0  # nothing left


def test_switching_off_keeps_a_snooze_the_user_asked_for(db: Database) -> None:
    snoozed = enqueue(db, "call back", priority="action").id
    route(db)
    show(db)
    snooze(db, snoozed, T0 + timedelta(minutes=10), T0)
    enqueue(db, "waiting", priority="action")
    route(db)
    assert db.cancel_pending(T0) == 1
    assert sorted(rows(db)) == [
        ("call back", "queued", 1, "snoozed"),
        ("waiting", "cancelled", 0, "disabled"),
    ]
    assert show(db, T0 + timedelta(minutes=10)) == 2  # on again: at its time


def _fail_unreachable(db: Database, at: datetime = T0) -> None:
    for claimed in claim(db, "agent-1", at, TTL, 10):
        code = "daemon_unreachable" if claimed.title != "other error" else "invalid"
        mark(db, "agent-1", [Outcome(claimed, K.FAILED, code, "no daemon")], at)


def test_the_daemon_back_retries_once_what_failed_for_its_absence_alone(db: Database) -> None:
    """Unread, not archived, young enough, and failed for want of a daemon: one more
    attempt; an old one, a read one or another error stay failed."""
    enqueue(db, "old", priority="action")
    execute(db, "UPDATE notifications SET created_at = '2020-01-01 00:00:00.000000'")
    enqueue(db, "fresh", priority="action")
    read = enqueue(db, "read already", priority="action").id
    enqueue(db, "other error", priority="action")
    route(db)
    _fail_unreachable(db)
    mark_read(db, read, T0)
    later = T0 + timedelta(minutes=5)
    assert db.retry_unreachable(later, later - timedelta(days=1)) == 1
    assert sorted(rows(db)) == [
        ("fresh", "queued", 1, "daemon_unreachable"),
        ("old", "failed", 1, "daemon_unreachable"),
        ("other error", "failed", 1, "invalid"),
        ("read already", "failed", 1, "daemon_unreachable"),
    ]
    (again,) = claim(db, "agent-1", later, TTL, 10)
    assert (again.title, again.attempt_no, again.max_attempts) == ("fresh", 2, 2)  # once
    assert db.retry_unreachable(later, None) == 1  # any age: the old one too
