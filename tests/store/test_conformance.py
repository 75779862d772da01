"""The store's interface, the same on both backends: every transition the engine calls, as a
`Database` method, on a SQLite file and on a PostgreSQL server, with a row another program
wrote badly and a producer's trigger that refuses one row among them. Each transition's
details are tested in test_state_machine.py; this is the interface's contract in one walk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import execute, query, refuse_insert
from traycourier.agent.policy import routing
from traycourier.store import Database, Settings, enqueue, timestamps
from traycourier.store.model import Outcome
from traycourier.store.model import OutcomeKind as K

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)
NO_RETRY = lambda attempt, budget: None  # noqa: E731 -- a plan that gives up at once


def statuses(db: Database) -> dict[str, tuple[str, str | None]]:
    rows = query(
        db,
        "SELECT n.title, d.status, d.last_error_code FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id",
    )
    return {str(title): (status, code) for title, status, code in rows}


def route(db: Database, now: datetime = T0) -> None:
    settings = Settings(max_age_seconds=0, min_priority="info")
    db.route(lambda item: routing.decide_desktop(item, settings, now), now)


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


def test_one_walk_through_every_transition(db: Database) -> None:
    # producers' triggers: one refuses a notification, one the agent's rows for another
    refuse_insert(db, "picky", "notifications", "NEW.title = 'refused'", "not this one")
    for title in ("shown", "retried", "expired", "released", "failed"):
        enqueue(db, title, priority="urgent", now=T0)
    execute(db, "INSERT INTO notifications (id, title, created_at) VALUES ('bad', 'bad', 'soon')")
    refuse_insert(
        db, "picky_route", "notification_deliveries", "NEW.notification_id = 'picky'", "not routed"
    )
    execute(db, "INSERT INTO notifications (id, title, priority) VALUES ('picky', 'p', 'urgent')")
    with pytest.raises(Exception, match="not this one"):
        enqueue(db, "refused", now=T0)  # refused on both backends, and nothing written

    assert db.pending(T0).unrouted
    route(db)
    assert statuses(db)["bad"] == ("failed", "invalid_row")
    assert "p" not in statuses(db)  # routed without its rows, the others unharmed
    assert not db.pending(T0).unrouted

    claimed = {c.title: c for c in db.claim("a1", T0, TTL, 10)}
    assert set(claimed) == {"shown", "retried", "expired", "released", "failed"}
    assert db.claim("a2", T0, TTL, 10) == []  # leased: nobody else takes them
    db.mark_started("a1", [claimed[t].delivery_id for t in ("shown", "expired")], T0)
    later = timestamps.fmt(T0 + timedelta(minutes=5))
    report = db.mark(
        "a1",
        [
            Outcome(claimed["shown"], K.SENT, external_id="popup-1"),
            Outcome(claimed["retried"], K.RETRY, "daemon_unreachable", "no daemon", None, later),
            Outcome(claimed["failed"], K.FAILED, "invalid_notification", "refused"),
        ],
        T0,
    )
    assert (report.applied, report.fenced_off) == (3, ())
    assert db.next_event_at() == T0 + TTL  # the first lease to expire comes before `later`

    # both leases left run out: the started call counts (and the budget is gone), the other
    # goes back unshown; then another agent takes that one (its call counts as started, as
    # the head of a claim) and shuts down cleanly: it backs off
    assert db.expire_leases(T0 + 2 * TTL, NO_RETRY) == 2
    [again] = db.claim("a2", T0 + 2 * TTL, TTL, 10)
    assert again.title == "released"
    assert db.release_all("a2", T0 + 2 * TTL, lambda attempt, budget: 60.0) == 1
    assert statuses(db) == {
        "shown": ("sent", None),
        "retried": ("retry_wait", "daemon_unreachable"),
        "expired": ("failed", "lease_expired"),
        "released": ("retry_wait", "lease_expired"),
        "failed": ("failed", "invalid_notification"),
        "bad": ("failed", "invalid_row"),
    }

    assert db.retry_failed(T0) == 3  # "expired", "failed", "bad": queued with a fresh budget
    db.snooze(claimed["shown"].notification_id, T0 + timedelta(hours=1), T0)
    assert statuses(db)["shown"] == ("queued", "snoozed")
    assert db.cancel_pending(T0) == 5  # switched off: what waits is cancelled, but a snooze
    after = statuses(db)
    assert after.pop("shown") == ("queued", "snoozed")  # the user asked to see it again
    assert {status for status, _code in after.values()} == {"cancelled"}

    first = db.answer(claimed["shown"].notification_id, "approve", "laptop", T0)
    second = db.answer(claimed["shown"].notification_id, "deny", "desktop", T0)
    assert (first.won, second.won, second.answer) == (True, False, "approve")


def test_the_backend_is_named_by_the_target_alone(db: Database) -> None:
    assert db.is_server == (db.url is not None) == (db.dialect == "postgresql")
    assert type(db).__name__ == ("ServerDatabase" if db.is_server else "SqliteDatabase")
    assert (db.server_time() is not None) == db.is_server
