"""Property: a producer's trigger may refuse any write the agent makes to one notification
(routing it, marking it routed, claiming it, marking its call started, writing its outcome,
recording its attempt, ending its lease), on SQLite and on PostgreSQL, with its show
succeeding or failing: every other notification is still shown exactly once, no tick raises,
the refused one ends in a recorded state (or is passed over, logged), and the agent settles
with nothing due -- no busy loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import execute, query
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.notifier import NotifyError, OsNotification, TextOnly
from traycourier.agent.policy import errors
from traycourier.store import Database, enqueue, write_setting
from traycourier.store.deliveries import pending

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GOOD = ("good one", "good two", "good three")

# Which of the agent's writes to the victim a trigger refuses: (table, event, condition).
WRITES = {
    "its delivery rows": ("notification_deliveries", "INSERT", "NEW.notification_id = 'victim'"),
    "its routed_at": ("notifications", "UPDATE", "NEW.id = 'victim' AND NEW.routed_at IS NOT NULL"),
    "its claim": (
        "notification_deliveries", "UPDATE",
        "NEW.notification_id = 'victim' AND NEW.status = 'leased' AND OLD.status <> 'leased'",
    ),
    "its call started": (
        "notification_deliveries", "UPDATE",
        "NEW.notification_id = 'victim' AND NEW.attempt_started_at IS NOT NULL",
    ),
    "its sent mark": (
        "notification_deliveries", "UPDATE",
        "NEW.notification_id = 'victim' AND NEW.status = 'sent'",
    ),
    "its retry or failure": (
        "notification_deliveries", "UPDATE",
        "NEW.notification_id = 'victim' AND NEW.status IN ('retry_wait', 'failed')",
    ),
    "its return to the queue": (
        "notification_deliveries", "UPDATE",
        "NEW.notification_id = 'victim' AND NEW.status = 'queued' AND OLD.status = 'leased'",
    ),
    "its attempt record": (
        "notification_delivery_attempts", "INSERT",
        "NEW.delivery_id IN (SELECT id FROM notification_deliveries "
        "WHERE notification_id = 'victim')",
    ),
}  # fmt: skip


class Flaky(TextOnly):
    """Shows everything but the victim, which it shows, fails for now, or fails for good.
    `may_block`: like a real desktop (each call marked started just before it is made) or
    like a test double (the claim marks a whole round started)."""

    name = "flaky"
    available = True
    degraded = False
    needs_session_bus = False
    platform = "linux"

    def __init__(self, victim: str, may_block: bool = False) -> None:
        self.victim = victim
        self.may_block = may_block
        self.titles: list[str] = []

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        if notification.title == "victim" and self.victim != "shown":
            kind = errors.DAEMON_UNREACHABLE if self.victim == "retried" else errors.INVALID
            raise NotifyError(kind, "the victim's show fails")
        self.titles.append(notification.title)
        return None


def refuse_sqlite(db: Database, writes: list[str], how: str) -> None:
    for n, name in enumerate(writes):
        table, event, condition = WRITES[name]
        execute(
            db,
            f"CREATE TRIGGER refuse_{n} BEFORE {event} ON {table} WHEN {condition} "
            f"BEGIN SELECT RAISE({how}, 'refused by a producer trigger'); END",
        )


def refuse_postgresql(db: Database, writes: list[str], _how: str) -> None:
    execute(
        db,
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by a producer trigger'; END $$",
    )
    for n, name in enumerate(writes):
        table, event, condition = WRITES[name]
        if "SELECT" in condition:  # a WHEN may not read tables: test inside the function
            execute(
                db,
                f"CREATE OR REPLACE FUNCTION refuse_{n}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN IF {condition} THEN RAISE EXCEPTION 'refused by a producer "
                "trigger'; END IF; RETURN NEW; END $$",
            )
            execute(
                db,
                f"CREATE TRIGGER refuse_{n} BEFORE {event} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION refuse_{n}()",
            )
            continue
        when = condition if event == "UPDATE" else condition.replace("OLD.", "NEW.")
        execute(
            db,
            f"CREATE TRIGGER refuse_{n} BEFORE {event} ON {table} FOR EACH ROW "
            f"WHEN ({when}) EXECUTE FUNCTION refuse()",
        )


def settle(
    db: Database,
    writes: list[str],
    victim: str,
    may_block: bool = False,
    victim_first: bool = False,
) -> None:
    write_setting(db, "burst_limit", 0, T0)  # every one shown on its own, to count them
    victim_sql = (
        "INSERT INTO notifications (id, title, priority) VALUES ('victim', 'victim', 'urgent')"
    )
    if victim_first:  # the head of a claim is marked started by the claim itself
        execute(db, victim_sql)
    enqueue(db, "first", priority="urgent", now=T0)
    if not victim_first:
        execute(db, victim_sql)
    for title in GOOD:
        enqueue(db, title, priority="urgent", now=T0)
    notifier = Flaky(victim, may_block)
    moments = iter(
        T0 + timedelta(minutes=10 * n, milliseconds=k) for n in range(40) for k in range(1000)
    )
    current = [T0]

    def clock() -> datetime:
        return current[0]

    agent = Runtime(db, notifier, RuntimeConfig(owner="me"), clock=clock)  # type: ignore[arg-type]
    agent.start()
    for n in range(12):  # ten minutes apart: past every backoff and lease
        current[0] = T0 + timedelta(minutes=10 * n)
        agent.tick()
    del moments
    assert sorted(t for t in notifier.titles if t != "victim") == sorted(["first", *GOOD])
    states = query(
        db,
        "SELECT n.id, d.status, d.last_error_code FROM notifications n "
        "LEFT JOIN notification_deliveries d ON d.notification_id = n.id ORDER BY n.seq",
    )
    others = [(status, code) for ntf, status, code in states if ntf != "victim"]
    assert others == [("sent", None)] * 4
    [(_, status, code)] = [row for row in states if row[0] == "victim"]
    passed_over = bool(db.refused.deliveries or db.refused.notifications)
    assert status in ("sent", "failed", None) or passed_over, (status, code)
    # settled: nothing the agent may act on is due, so nothing wakes it again and again
    todo = pending(db, current[0])
    assert not (todo.due or todo.expired_leases or todo.malformed or todo.unrouted)
    assert agent.next_wake_s() > 0


REFUSALS = st.lists(st.sampled_from(list(WRITES)), min_size=1, max_size=3, unique=True)
VICTIM = st.sampled_from(["shown", "retried", "failed"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    writes=REFUSALS,
    victim=VICTIM,
    how=st.sampled_from(["ABORT", "FAIL"]),
    may_block=st.booleans(),
    victim_first=st.booleans(),
)
def test_a_refused_write_on_sqlite_stops_nothing_else(
    tmp_path_factory: pytest.TempPathFactory,
    writes: list[str],
    victim: str,
    how: str,
    may_block: bool,
    victim_first: bool,
) -> None:
    db = Database.open(tmp_path_factory.mktemp("refused") / "tc.db")
    try:
        refuse_sqlite(db, writes, how)
        settle(db, writes, victim, may_block, victim_first)
    finally:
        db.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(writes=REFUSALS, victim=VICTIM, may_block=st.booleans(), victim_first=st.booleans())
def test_a_refused_write_on_postgresql_stops_nothing_else(
    pg_server: object, writes: list[str], victim: str, may_block: bool, victim_first: bool
) -> None:
    db = Database.open(pg_server.new_database())  # type: ignore[attr-defined]
    try:
        refuse_postgresql(db, writes, "")
        settle(db, writes, victim, may_block, victim_first)
    finally:
        db.close()
