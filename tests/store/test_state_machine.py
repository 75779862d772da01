"""The delivery state machine on a real file, with an injected clock (no sleeping)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import query
from traycourier.agent.policy import routing
from traycourier.store import Database, Settings, enqueue, timestamps
from traycourier.store.deliveries import route_batch
from traycourier.store.housekeeping import (
    cancel_pending,
    expire_leases,
    next_event_at,
    release_all,
    retry_failed,
)
from traycourier.store.leases import claim
from traycourier.store.marks import mark, mark_started
from traycourier.store.model import Outcome
from traycourier.store.model import OutcomeKind as K

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def route(db: Database, now: datetime = T0, settings: Settings | None = None) -> None:
    # a minimum above `info` (not the default), so every test here has a row to skip
    current = settings or Settings(min_priority="action", max_age_seconds=0)
    route_batch(db, lambda item: routing.decide_desktop(item, current, now), now)


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on a SQLite file and on a PostgreSQL server."""
    return any_db


def rows(db: Database) -> list[tuple]:
    return query(
        db,
        "SELECT n.title, d.status, d.attempts, d.last_error_code "
        "FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id ORDER BY n.seq",
    )


def attempts(db: Database) -> list[tuple]:
    return query(
        db,
        "SELECT delivery_id, attempt_no, owner, outcome, error_code "
        "FROM notification_delivery_attempts ORDER BY id",
    )


def test_routing_is_atomic_and_idempotent(db: Database) -> None:
    for title in ("a", "b"):
        enqueue(db, title, priority="urgent")
    enqueue(db, "quiet", priority="info")
    route(db)
    route(db)  # a replayed tick creates nothing
    assert rows(db) == [
        ("a", "queued", 0, None),
        ("b", "queued", 0, None),
        ("quiet", "skipped", 0, "min_priority"),  # below the minimum: visible, never shown
    ]
    assert query(db, "SELECT count(*) FROM notifications WHERE routed_at IS NULL") == [(0,)]


def test_routing_while_switched_off_records_skipped(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db, settings=Settings(enable_notifications=False))
    assert rows(db) == [("a", "skipped", 0, "disabled")]


def test_claim_order_is_priority_then_due_time_then_arrival(db: Database) -> None:
    for title, priority in [
        ("w1", "warning"),
        ("a1", "action"),
        ("u1", "urgent"),
        ("a2", "action"),
    ]:
        enqueue(db, title, priority=priority)
    route(db, settings=Settings(min_priority="info"))
    got = claim(db, "A", T0, TTL, limit=10)
    assert [c.title for c in got] == ["u1", "a1", "a2", "w1"]
    assert all(c.attempt_no == 1 for c in got)


def test_a_leased_row_cannot_be_claimed_twice(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    assert len(claim(db, "A", T0, TTL, 10)) == 1
    assert claim(db, "B", T0, TTL, 10) == []


def test_sent_writes_the_attempt_and_clears_the_lease(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10)
    report = mark(db, "A", [Outcome(c, K.SENT, external_id="42")], T0 + timedelta(seconds=1))
    assert report.applied == 1 and report.fenced_off == ()
    assert rows(db) == [("a", "sent", 1, None)]
    assert attempts(db) == [(c.delivery_id, 1, "A", "sent", None)]
    (row,) = query(
        db,
        "SELECT lease_owner, lease_expires_at, external_id, delivered_at "
        "FROM notification_deliveries",
    )
    assert row[:3] == (None, None, "42") and row[3].startswith("2026-11-28 12:00:01")


def test_a_late_writer_changes_nothing(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10, started=True)
    late = T0 + TTL + timedelta(seconds=1)
    assert expire_leases(db, late, lambda n, m: 1.0) == 1
    (c2,) = claim(db, "B", late + timedelta(seconds=2), TTL, 10)
    report = mark(db, "A", [Outcome(c, K.SENT)], late + timedelta(seconds=3))
    assert report.applied == 0 and report.fenced_off == (c.delivery_id,)
    assert rows(db) == [("a", "leased", 1, "lease_expired")]
    mark(db, "B", [Outcome(c2, K.SENT)], late + timedelta(seconds=3))
    assert rows(db) == [("a", "sent", 2, None)]
    assert [a[3] for a in attempts(db)] == ["lease_expired", "sent"]


def test_an_expired_lease_counts_and_fails_at_the_budget(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    now = T0
    for attempt in range(1, 6):
        assert len(claim(db, f"crashy{attempt}", now, TTL, 10, started=True)) == 1
        now += TTL + timedelta(seconds=1)
        expire_leases(db, now, lambda n, m: None if n >= m else 0.0)
    assert rows(db) == [("a", "failed", 5, "lease_expired")]
    assert [a[1] for a in attempts(db)] == [1, 2, 3, 4, 5]


def test_an_expired_lease_whose_call_never_started_counts_nothing(db: Database) -> None:
    """A crashed owner (or one that could not write for longer than the lease) gives back
    every row whose notifier call never started, uncounted, however often that happens.
    The claim marks only its first row started: that call follows at once."""
    for title in ("a", "b", "c"):
        enqueue(db, title, priority="urgent")
    route(db)
    now = T0
    for cycle in range(8):
        first, *rest = claim(db, "crashy", now, TTL, 2)
        assert first.started and not any(c.started for c in rest)
        now += TTL + timedelta(seconds=1)
        assert expire_leases(db, now, lambda n, m: 0.0) == 2
        now += timedelta(seconds=1)
        if cycle == 0:
            assert rows(db) == [
                ("a", "retry_wait", 1, "lease_expired"),
                ("b", "queued", 0, None),
                ("c", "queued", 0, None),
            ]
    counted = sum(r[2] for r in rows(db))
    assert counted == 8 == len(attempts(db))  # one started call per cycle, no more
    _a, b = claim(db, "C", now, TTL, 2)
    mark_started(db, "C", [b.delivery_id], now)  # C calls for b too, then dies
    now += TTL + timedelta(seconds=1)
    expire_leases(db, now, lambda n, m: 0.0)
    assert sum(r[2] for r in rows(db)) == counted + 2


def test_retry_waits_for_its_time(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10)
    retry_at = T0 + timedelta(seconds=2)
    mark(
        db,
        "A",
        [Outcome(c, K.RETRY, "timeout", "slow", next_attempt_at=timestamps.fmt(retry_at))],
        T0,
    )
    assert rows(db) == [("a", "retry_wait", 1, "timeout")]
    assert claim(db, "A", retry_at - timedelta(milliseconds=1), TTL, 10) == []
    assert next_event_at(db) == retry_at
    (again,) = claim(db, "A", retry_at, TTL, 10)
    assert again.attempt_no == 2


def test_release_on_shutdown_counts_no_attempt_unless_the_call_had_started(db: Database) -> None:
    """The claim marks its first row started (its call follows at once): that one may have
    been shown, so it counts, is recorded and backs off; the unstarted one goes back as it
    was. Before, both went back uncounted and the first could be shown twice unrecorded."""
    for title in ("a", "b"):
        enqueue(db, title, priority="urgent")
    route(db)
    first, _second = claim(db, "A", T0, TTL, 10)
    assert first.started
    assert release_all(db, "A", T0, lambda _n, _max: 4.0) == 2
    assert rows(db) == [("a", "retry_wait", 1, "lease_expired"), ("b", "queued", 0, None)]
    assert [(a[1], a[3]) for a in attempts(db)] == [(1, "lease_expired")]
    backoff = query(db, "SELECT next_attempt_at FROM notification_deliveries WHERE id = 1")
    assert backoff == [(timestamps.fmt(T0 + timedelta(seconds=4)),)]


def test_switching_off_cancels_what_waits(db: Database) -> None:
    for title in ("a", "b"):
        enqueue(db, title, priority="urgent")
    route(db)
    assert cancel_pending(db, T0) == 2
    assert rows(db) == [("a", "cancelled", 0, "disabled"), ("b", "cancelled", 0, "disabled")]


def test_retry_failed_resets_the_budget(db: Database) -> None:
    enqueue(db, "a", priority="urgent")
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10)
    mark(db, "A", [Outcome(c, K.FAILED, "no_backend", "none")], T0)
    assert rows(db) == [("a", "failed", 1, "no_backend")]
    assert retry_failed(db, T0) == 1
    assert rows(db) == [("a", "queued", 0, None)]
    (again,) = claim(db, "A", T0, TTL, 10)
    assert again.attempt_no == 1


@pytest.mark.parametrize("bad", [b"\xff\xfe not utf-8", "ok"])
def test_a_title_that_is_not_utf8_does_not_break_claiming(db_path: Path, bad: object) -> None:
    db = Database.open(db_path)  # SQLite only: PostgreSQL's text is always valid UTF-8
    with sqlite3.connect(db.path) as conn:
        conn.execute(
            "INSERT INTO notifications(title, priority) VALUES (CAST(? AS TEXT), 'urgent')", (bad,)
        )
    route(db)
    (c,) = claim(db, "A", T0, TTL, 10)
    assert isinstance(c.title, str)


def test_the_tray_summary_agrees_with_the_full_status(db: Database) -> None:
    from traycourier.store import queries

    for title in ("a", "b", "c", "d"):
        enqueue(db, title, priority="urgent")
    route(db)
    a, b, _c = claim(db, "A", T0, TTL, 3)
    mark(db, "A", [Outcome(a, K.SENT), Outcome(b, K.FAILED, "invalid", "x")], T0)
    summary = queries.tray_summary(db)
    status = queries.status(db, T0, timedelta(seconds=90))
    counts = status.counts
    assert summary.pending == counts["queued"] + counts["retry_wait"] + counts["leased"] == 2
    assert summary.failed == counts["failed"] == 1
    assert summary.last_delivered_at == status.last_delivered_at is not None


def test_the_per_tick_queries_use_indexes_not_history_scans(db_path: Path) -> None:
    """What the agent and the tray run after every change must not read the whole history:
    SQLite's plan for each names an index (a SCAN of a table without one would grow with it)."""
    from traycourier.store import deliveries as d

    db = Database.open(db_path)
    from traycourier.store import housekeeping, leases, queries

    refused = {"refused_deliveries": "[1, 2]", "refused_notifications": "[3]"}
    statements = [
        (d._PENDING, {"now": "2026-01-01", "device": "", **refused}),
        (queries._TRAY_SUMMARY, {"device": ""}),
        (d._SELECT_UNROUTED, {"limit": 10, **refused}),
        (
            leases._CLAIM,
            {
                "owner": "A",
                "expires": "x",
                "now": "y",
                "limit": 10,
                "started": None,
                "max_rank": 0,
                "device": "",
                **refused,
            },
        ),
        (housekeeping._NEXT_EVENT, {"waiting": True, "max_rank": 0, "device": "", **refused}),
    ]
    with db.read() as conn:
        for statement, params in statements:
            plan = conn.execute(_explain(statement), params).all()
            details = [row[-1] for row in plan]
            full_scans = [
                step
                for step in details
                if step.startswith("SCAN ")
                and "USING" not in step
                and "CONSTANT" not in step
                and "VIRTUAL TABLE" not in step  # the JSON list of passed-over rows
            ]
            assert not full_scans, (str(statement), details)
    db.close()


def _explain(statement):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from traycourier.store.dialects import Both

    sql = statement.sqlite.text if isinstance(statement, Both) else statement.text
    return text("EXPLAIN QUERY PLAN " + sql)
