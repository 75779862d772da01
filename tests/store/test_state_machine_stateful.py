"""Random interleavings of route / claim / mark / expire / settings / two owners, checking
the invariants of the delivery state machine after every step (hypothesis stateful)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from traycourier.agent.policy import backoff, routing
from traycourier.store import Database, Settings, enqueue, timestamps
from traycourier.store.deliveries import route_batch
from traycourier.store.housekeeping import expire_leases
from traycourier.store.leases import claim
from traycourier.store.marks import mark
from traycourier.store.model import PRIORITIES, Claimed, Outcome, OutcomeKind, Priority

TTL = timedelta(seconds=30)
OWNERS = ("A", "B")


class DeliveryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.db = Database.open(self.dir / "t.db")
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
        self.settings = Settings(max_age_seconds=0)
        self.held: list[tuple[str, Claimed]] = []
        self.expected_rows: dict[str, str | None] = {}  # notification id -> status at routing

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def conn(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db.path)

    @rule(priority=st.sampled_from(PRIORITIES))
    def produce(self, priority: str) -> None:
        enqueue(self.db, f"n-{priority}", priority=priority)

    @rule()
    def route(self) -> None:
        unrouted = (
            self.conn()
            .execute("SELECT id, priority FROM notifications WHERE routed_at IS NULL")
            .fetchall()
        )
        current, now = self.settings, self.now
        route_batch(self.db, lambda item: routing.decide_desktop(item, current, now), now)
        for ntf_id, priority in unrouted:
            if not Priority(priority).at_least(Priority(current.min_priority)):
                self.expected_rows[ntf_id] = "skipped"  # code min_priority: visible
            else:
                self.expected_rows[ntf_id] = "queued" if current.enable_notifications else "skipped"

    @rule(owner=st.sampled_from(OWNERS), limit=st.integers(1, 4))
    def claim_some(self, owner: str, limit: int) -> None:
        for c in claim(self.db, owner, self.now, TTL, limit):
            self.held.append((owner, c))

    @rule(
        index=st.integers(0, 20),
        kind=st.sampled_from(
            [OutcomeKind.SENT, OutcomeKind.RETRY, OutcomeKind.FAILED, OutcomeKind.RELEASE]
        ),
    )
    def mark_one(self, index: int, kind: OutcomeKind) -> None:
        if not self.held:
            return
        owner, c = self.held.pop(index % len(self.held))
        before = self._row(c.delivery_id)
        holds = (  # the very lease this claim took: not a later one of the same owner
            before[0] == "leased"
            and before[3] == owner
            and before[4] == c.lease_expires_at
            and timestamps.parse(before[4]) > self.now
        )
        delay = backoff.next_attempt_in(c.attempt_no, c.max_attempts, 0.5)
        if kind == OutcomeKind.RETRY and delay is None:
            kind = OutcomeKind.FAILED
        next_at = timestamps.fmt(self.now + timedelta(seconds=delay or 0))
        outcome = Outcome(c, kind, "error", "boom", next_attempt_at=next_at)
        report = mark(self.db, owner, [outcome], self.now)
        if holds:
            assert report.applied == 1
        else:
            assert report.applied == 0, "a writer without the lease changed a row"
            assert self._row(c.delivery_id) == before

    @rule(seconds=st.sampled_from([31, 31, 2, 0.5, 400]))
    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(owner=st.sampled_from(OWNERS))
    def takeover(self, owner: str) -> None:
        """Every lease runs out, its rows come due again, and `owner` claims them: whoever
        held them before is now a late writer."""
        self.now += TTL + timedelta(seconds=1)
        self.expire()
        self.now += timedelta(seconds=400)
        self.claim_some(owner, 4)

    @rule()
    def expire(self) -> None:
        expire_leases(self.db, self.now, lambda n, m: backoff.next_attempt_in(n, m, 0.5))

    @rule(enabled=st.booleans(), minimum=st.sampled_from(PRIORITIES))
    def change_settings(self, enabled: bool, minimum: str) -> None:
        self.settings = Settings(
            enable_notifications=enabled, min_priority=minimum, max_age_seconds=0
        )

    def _row(self, delivery_id: int) -> tuple:
        return (
            self.conn()
            .execute(
                "SELECT status, attempts, max_attempts, lease_owner, lease_expires_at, "
                "delivered_at "
                "FROM notification_deliveries WHERE id = ?",
                (delivery_id,),
            )
            .fetchone()
        )

    @invariant()
    def leases_are_whole(self) -> None:
        bad = (
            self.conn()
            .execute(
                "SELECT count(*) FROM notification_deliveries WHERE "
                "(status = 'leased') != (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)"
            )
            .fetchone()[0]
        )
        assert bad == 0

    @invariant()
    def attempts_within_budget_and_logged(self) -> None:
        for delivery_id, attempts, max_attempts, logged in self.conn().execute(
            "SELECT d.id, d.attempts, d.max_attempts, (SELECT count(*) FROM "
            "notification_delivery_attempts a WHERE a.delivery_id = d.id) "
            "FROM notification_deliveries d"
        ):
            assert attempts <= max_attempts, delivery_id
            assert attempts == logged, delivery_id

    @invariant()
    def sent_rows_have_a_delivery_time(self) -> None:
        assert (
            self.conn()
            .execute(
                "SELECT count(*) FROM notification_deliveries "
                "WHERE (status = 'sent') != (delivered_at IS NOT NULL)"
            )
            .fetchone()[0]
            == 0
        )

    @invariant()
    def routed_notifications_have_the_rows_the_rules_imply(self) -> None:
        actual = dict(
            self.conn().execute(
                "SELECT n.id, count(d.id) FROM notifications n LEFT JOIN "
                "notification_deliveries d ON d.notification_id = n.id "
                "WHERE n.routed_at IS NOT NULL GROUP BY n.id"
            )
        )
        assert set(actual) == set(self.expected_rows)
        for ntf_id, expected in self.expected_rows.items():
            assert actual[ntf_id] == (0 if expected is None else 1), ntf_id
        skipped = {
            r[0]
            for r in self.conn().execute(
                "SELECT notification_id FROM notification_deliveries WHERE status = 'skipped'"
            )
        }
        assert skipped == {k for k, v in self.expected_rows.items() if v == "skipped"}


TestDeliveryMachine = DeliveryMachine.TestCase
TestDeliveryMachine.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
