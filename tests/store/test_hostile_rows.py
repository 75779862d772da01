"""Rows another program wrote, read and written by the store: nothing is all-or-nothing over
one bad row, and nothing reads more than what can be shown."""

from __future__ import annotations

import sqlite3
import tracemalloc
from datetime import UTC, datetime, timedelta

from tests.conftest import execute, query
from traycourier.agent.policy import routing
from traycourier.store import Database, Settings, enqueue, history, queries
from traycourier.store.deliveries import MAX_BODY_READ, MAX_TITLE_READ, route_batch
from traycourier.store.housekeeping import retry_failed
from traycourier.store.leases import claim
from traycourier.store.marks import mark
from traycourier.store.model import Outcome, OutcomeKind

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def route(db: Database) -> None:
    route_batch(db, lambda item: routing.decide_desktop(item, Settings(max_age_seconds=0), T0), T0)


def producer(db: Database) -> sqlite3.Connection:
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def states(db: Database) -> list[tuple]:
    return (
        producer(db)
        .execute(
            "SELECT n.seq, d.status, d.last_error_code FROM notifications n "
            "LEFT JOIN notification_deliveries d ON d.notification_id = n.id ORDER BY n.seq"
        )
        .fetchall()
    )


def test_a_blob_id_is_carried_to_its_delivery_unchanged(db: Database) -> None:
    producer(db).execute(
        "INSERT INTO notifications(id, title, priority) VALUES (x'00ff', 't', 'urgent')"
    )
    enqueue(db, "good", priority="urgent")
    route(db)
    assert states(db) == [(1, "failed", "invalid_row"), (2, "queued", None)]
    assert producer(db).execute(
        "SELECT typeof(notification_id), hex(notification_id) FROM notification_deliveries "
        "WHERE status = 'failed'"
    ).fetchone() == ("blob", "00FF")
    # "Retry failed" brings it back; it can be claimed and its id is shown readably
    assert retry_failed(db, T0) == 1
    ids = {c.notification_id for c in claim(db, "A", T0, TTL, 10)}
    assert "x'00ff'" in ids and len(ids) == 2


def test_a_producers_trigger_that_rejects_one_row_does_not_stop_the_others(db: Database) -> None:
    producer(db).execute(
        "CREATE TRIGGER picky BEFORE INSERT ON notification_deliveries "
        "WHEN NEW.notification_id = 'ntf_picky' BEGIN SELECT RAISE(ABORT, 'not this one'); END"
    )
    enqueue(db, "first", priority="urgent")
    producer(db).execute(
        "INSERT INTO notifications(id, title, priority) VALUES ('ntf_picky', 'p', 'urgent')"
    )
    enqueue(db, "last", priority="urgent")
    route(db)
    assert states(db) == [(1, "queued", None), (2, None, None), (3, "queued", None)]
    unrouted = producer(db).execute("SELECT count(*) FROM notifications WHERE routed_at IS NULL")
    assert unrouted.fetchone() == (0,)  # the rejected one is not retried forever


def test_an_orphaned_delivery_fails_and_the_rest_of_the_claim_goes_on(db: Database) -> None:
    for title in ("a", "b", "c"):
        enqueue(db, title, priority="urgent")
    route(db)
    producer(db).execute("DELETE FROM notifications WHERE title = 'b'")
    claimed = claim(db, "A", T0, TTL, 10)
    assert [c.title for c in claimed] == ["a", "c"]
    assert producer(db).execute(
        "SELECT status, last_error_code, lease_owner FROM notification_deliveries "
        "WHERE notification_id NOT IN (SELECT id FROM notifications)"
    ).fetchall() == [("failed", "orphaned", None)]


def test_a_claim_reads_no_more_text_than_can_be_shown(any_db: Database) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    huge = "x" * 10_000_000
    enqueue(db, huge, huge, priority="urgent")
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10)
    assert c.title is not None and len(c.title) == MAX_TITLE_READ
    assert c.message is not None and len(c.message) == MAX_BODY_READ
    (recent,) = history.recent_notifications(db, 10)
    assert len(recent.title) <= 200 and len(recent.message) <= 1000
    (listed,) = queries.list_deliveries(db)
    assert len(listed.title) <= 200


def test_a_blob_title_is_claimed_as_no_title(db: Database) -> None:
    producer(db).execute("INSERT INTO notifications(title, priority) VALUES (x'ff', 'urgent')")
    route(db)
    retry_failed(db, T0)  # force it through the claim
    (c,) = claim(db, "A", T0, TTL, 10)
    assert c.title is None
    (recent,) = history.recent_notifications(db, 10)
    assert recent.title == "x'ff'"


def test_an_id_that_really_holds_a_replacement_character_is_valid_text(db: Database) -> None:
    conn = producer(db)
    conn.execute(
        "INSERT INTO notifications(id, title, priority) VALUES ('ntf_\ufffd', 'a', 'urgent')"
    )
    conn.execute(
        "INSERT INTO notifications(id, title, priority) "
        "VALUES (CAST(x'6e7466ff' AS TEXT), 'b', 'urgent')"
    )
    route(db)
    assert states(db) == [(1, "queued", None), (2, "failed", "invalid_row")]
    reason = conn.execute("SELECT last_error FROM notification_deliveries WHERE status = 'failed'")
    assert reason.fetchone() == ("the id x'6e7466ff' is not text",)


def test_reading_a_10_mb_row_keeps_kilobytes_in_the_agent(any_db: Database) -> None:
    """What reaches Python is cut in SQL: a producer's 10 MB title and body cost a few KB of
    the agent's memory per row (twenty such rows took it to 466 MB when it read them whole)."""
    db = any_db  # a SQLite file and a PostgreSQL server
    enqueue(db, "t" * 10_000_000, "m" * 10_000_000, priority="urgent")
    route(db)
    history.recent_notifications(db, 10)  # warm the connection pool and the schema
    tracemalloc.start()
    try:
        (recent,) = history.recent_notifications(db, 10)
        (claimed,) = claim(db, "A", T0, TTL, 10)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert recent.title == "t" * 200 and recent.message == "m" * 1000
    assert claimed.title == "t" * MAX_TITLE_READ
    assert peak < 500_000, f"{peak} bytes held while reading one 20 MB row"


def test_a_cut_counts_characters_not_bytes(any_db: Database) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    enqueue(db, "é" * 150 + "x" * 10_000, priority="urgent")
    (recent,) = history.recent_notifications(db, 10)
    assert recent.title == "é" * 150 + "x" * 50


def test_a_reused_id_gets_its_own_delivery(any_db: Database) -> None:
    """A producer deletes a notification with foreign keys off (the sqlite3 shell's default:
    its delivery stays) and writes a new one with the same id. The new one was marked routed
    with no delivery and never shown, silently."""
    execute(
        any_db, "INSERT INTO notifications (id, title, priority) VALUES ('ntf_x', 'old', 'urgent')"
    )
    route(any_db)
    (old,) = claim(any_db, "A", T0, TTL, 10)
    mark(any_db, "A", [Outcome(old, OutcomeKind.SENT)], T0)
    if any_db.url is None:
        conn = producer(any_db)
        conn.execute("DELETE FROM notifications WHERE id = 'ntf_x'")
        conn.execute(
            "INSERT INTO notifications (id, title, priority) VALUES ('ntf_x', 'new', 'urgent')"
        )
    else:  # a server keeps its foreign keys: the same happens only with them off
        execute(any_db, "ALTER TABLE notifications DISABLE TRIGGER ALL")
        execute(any_db, "DELETE FROM notifications WHERE id = 'ntf_x'")
        execute(
            any_db,
            "INSERT INTO notifications (id, title, priority) VALUES ('ntf_x', 'new', 'urgent')",
        )
        execute(any_db, "ALTER TABLE notifications ENABLE TRIGGER ALL")
    route(any_db)
    (new,) = claim(any_db, "A", T0, TTL, 10)
    assert (new.title, new.attempt_no) == ("new", 2)  # the attempt log goes on
    mark(any_db, "A", [Outcome(new, OutcomeKind.SENT)], T0)
    assert query(any_db, "SELECT attempt_no, outcome FROM notification_delivery_attempts") == [
        (1, "sent"),
        (2, "sent"),
    ]


def test_text_after_a_nul_reaches_the_agent(db: Database) -> None:
    """SQLite's text functions stop at a NUL: what followed one was dropped without a word."""
    producer(db).execute(
        "INSERT INTO notifications(title, message, priority) VALUES (?, ?, 'urgent')",
        ("disk\x00 almost full", "only\x00 2 GB left"),
    )
    route(db)
    (claimed,) = claim(db, "A", T0, TTL, 10)
    assert (claimed.title, claimed.message) == ("disk\x00 almost full", "only\x00 2 GB left")


def test_an_empty_message_is_read_as_empty_text(any_db: Database) -> None:
    enqueue(any_db, "title only", priority="urgent")
    route(any_db)
    (claimed,) = claim(any_db, "A", T0, TTL, 10)
    assert (claimed.title, claimed.message) == ("title only", "")
