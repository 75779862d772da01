"""The delivery state machine's SQL: routing, claiming, marking, expiring and requeueing.

Policy (which rows a notification gets, how long to back off) is decided by the caller and
passed in as plain values or pure functions; this module only makes it durable, atomically.
Every transition out of `leased` is fenced: it applies only while the caller still holds
the lease (same owner, not expired), so a late writer changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, TextClause, text

from store import timestamps
from store.db import Database
from store.schema import DESKTOP_ROUTE, DESKTOP_SINK, PRIORITIES

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Unrouted:
    """What routing needs to know about a notification."""

    seq: int
    id: str
    priority: str
    created_at: str
    archived: bool


@dataclass(frozen=True)
class RouteDecision:
    """A desktop row to create: `queued`, or `skipped` with a reason code."""

    status: Literal["queued", "skipped"]
    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RouteReport:
    routed: int
    queued: int
    skipped: int


@dataclass(frozen=True)
class Claimed:
    """A leased delivery and the notification to show."""

    delivery_id: int
    notification_id: str
    attempt_no: int
    max_attempts: int
    rank: int
    title: str
    message: str
    priority: str
    source: str
    kind: str
    actions_json: str
    created_at: str
    claimed_at: str


OutcomeKind = Literal["sent", "coalesced", "retry", "failed", "release"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed delivery.

    `retry` needs `next_attempt_at`; `release` (not shown: shutdown, or held back while the
    notifier is down) needs `next_attempt_at` and counts no attempt.
    """

    claimed: Claimed
    kind: OutcomeKind
    error_code: str | None = None
    error: str | None = None
    external_id: str | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True)
class MarkReport:
    applied: int
    fenced_off: tuple[int, ...]


# -- what is there to do ------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    expired_leases: bool
    unrouted: bool
    waiting: bool
    """Any queued or retry_wait desktop delivery, due or not."""
    due: bool


_PENDING = text(
    "SELECT "
    "EXISTS (SELECT 1 FROM notification_deliveries WHERE status = 'leased' "
    "  AND lease_expires_at <= :now), "
    "EXISTS (SELECT 1 FROM notifications WHERE routed_at IS NULL), "
    "EXISTS (SELECT 1 FROM notification_deliveries WHERE sink = 'desktop' "
    "  AND status IN ('queued', 'retry_wait')), "
    "EXISTS (SELECT 1 FROM notification_deliveries WHERE sink = 'desktop' "
    "  AND status IN ('queued', 'retry_wait') AND next_attempt_at <= :now)"
)


def pending(db: Database, now: datetime) -> Pending:
    """One cheap read that tells a tick which write transactions it needs at all: an idle
    tick then takes no write lock, so it never makes a producer wait."""
    with db.read() as conn:
        row = conn.execute(_PENDING, {"now": timestamps.fmt(now)}).one()
    return Pending(*(bool(value) for value in row))


# -- routing ------------------------------------------------------------------------------

_SELECT_UNROUTED = text(
    "SELECT seq, id, priority, created_at, archived_at IS NOT NULL FROM notifications "
    "WHERE routed_at IS NULL ORDER BY seq LIMIT :limit"
)
# Batches travel as one JSON parameter and are unpacked by json_each inside SQLite: one
# statement per batch instead of one bound row per notification.
_INSERT_DELIVERIES = text(
    "INSERT INTO notification_deliveries (notification_id, route_name, sink, destination_key, "
    "status, rank, attempts, max_attempts, next_attempt_at, last_error_code, last_error, "
    "created_at, updated_at) "
    "SELECT json_extract(value, '$[0]'), :route, :sink, '', json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), 0, :max_attempts, json_extract(value, '$[3]'), "
    "json_extract(value, '$[4]'), json_extract(value, '$[5]'), :now, :now "
    "FROM json_each(:rows) WHERE true "
    "ON CONFLICT (notification_id, route_name, destination_key) DO NOTHING"
)
_MARK_ROUTED = text(
    "UPDATE notifications SET routed_at = :now WHERE seq IN (SELECT value FROM json_each(:seqs))"
)


def route_batch(
    db: Database,
    decide: Callable[[Unrouted], RouteDecision | None],
    now: datetime,
    limit: int = 500,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> RouteReport:
    """Route up to `limit` unrouted notifications: their rows and `routed_at` commit together,
    so a crash or a replayed tick never creates a row twice or loses one."""
    stamp = timestamps.fmt(now)
    with db.write() as conn:
        batch = [Unrouted(*row) for row in conn.execute(_SELECT_UNROUTED, {"limit": limit})]
        if not batch:
            return RouteReport(0, 0, 0)
        rows = []
        for item in batch:
            decision = decide(item)
            if decision is None:
                continue
            next_at = stamp if decision.status == "queued" else None
            rank = PRIORITIES.index(item.priority)
            rows.append([item.id, decision.status, rank, next_at, decision.code, decision.reason])
        if rows:
            conn.execute(
                _INSERT_DELIVERIES,
                {
                    "rows": json.dumps(rows),
                    "route": DESKTOP_ROUTE,
                    "sink": DESKTOP_SINK,
                    "max_attempts": max_attempts,
                    "now": stamp,
                },
            )
        seqs = json.dumps([item.seq for item in batch])
        conn.execute(_MARK_ROUTED, {"now": stamp, "seqs": seqs})
    queued = sum(1 for r in rows if r[1] == "queued")
    return RouteReport(routed=len(batch), queued=queued, skipped=len(rows) - queued)


_CANCEL_PENDING = text(
    "UPDATE notification_deliveries SET status = 'cancelled', last_error_code = 'disabled', "
    "last_error = 'notifications were switched off', next_attempt_at = NULL, updated_at = :now "
    "WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait')"
)


def cancel_pending(db: Database, now: datetime) -> int:
    """Notifications switched off: drop what is waiting (leased rows finish as they are)."""
    return _update_all(db, _CANCEL_PENDING, now)


def _update_all(db: Database, statement: TextClause, now: datetime) -> int:
    """Run one bulk UPDATE stamped with `now`; returns how many rows it changed."""
    with db.write() as conn:
        return conn.execute(statement, {"now": timestamps.fmt(now)}).rowcount


# -- claiming -----------------------------------------------------------------------------

_CLAIM = text(
    "UPDATE notification_deliveries SET status = 'leased', lease_owner = :owner, "
    "lease_expires_at = :expires, updated_at = :now "
    "WHERE id IN (SELECT id FROM notification_deliveries "
    "  WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait') "
    "  AND next_attempt_at <= :now ORDER BY rank, next_attempt_at, id LIMIT :limit) "
    "RETURNING id, notification_id, attempts, max_attempts, rank, next_attempt_at"
)
_CLAIMED_CONTENT = text(
    "SELECT id, title, message, priority, source, kind, actions_json, created_at "
    "FROM notifications WHERE id IN (SELECT value FROM json_each(:ids))"
)
_COUNT_DUE = text(
    "SELECT count(*) FROM (SELECT 1 FROM notification_deliveries "
    "WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait') "
    "AND next_attempt_at <= :now LIMIT :cap)"
)


def count_due(db: Database, now: datetime, cap: int) -> int:
    """How many deliveries are due, counting no further than `cap`."""
    with db.read() as conn:
        return int(conn.execute(_COUNT_DUE, {"now": timestamps.fmt(now), "cap": cap}).scalar_one())


def claim(
    db: Database, owner: str, now: datetime, lease_ttl: timedelta, limit: int
) -> list[Claimed]:
    """Lease up to `limit` due desktop deliveries in claim order (priority, due time,
    arrival) in one write transaction; no other agent can lease them until it expires."""
    stamp = timestamps.fmt(now)
    params = {
        "owner": owner,
        "expires": timestamps.fmt(now + lease_ttl),
        "now": stamp,
        "limit": limit,
    }
    with db.write() as conn:
        leased = conn.execute(_CLAIM, params).all()
        if not leased:
            return []
        ids = json.dumps([row.notification_id for row in leased])
        content = {row[0]: row[1:] for row in conn.execute(_CLAIMED_CONTENT, {"ids": ids})}
    leased.sort(key=lambda row: (row.rank, row.next_attempt_at, row.id))
    return [
        Claimed(
            row.id,
            row.notification_id,
            row.attempts + 1,
            row.max_attempts,
            row.rank,
            *content[row.notification_id],
            claimed_at=stamp,
        )
        for row in leased
    ]


# -- marking ------------------------------------------------------------------------------

# Outcomes that share their values are written by one statement over a JSON list of ids;
# RETURNING tells which rows were still ours.
_FENCE = (
    "WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'leased' "
    "AND lease_owner = :owner AND lease_expires_at > :now RETURNING id"
)
_CLEAR_LEASE = "lease_owner = NULL, lease_expires_at = NULL, updated_at = :now"
_MARK_SQL: dict[OutcomeKind, str] = {
    "sent": "UPDATE notification_deliveries SET status = 'sent', attempts = attempts + 1, "
    "delivered_at = :now, external_id = :external_id, next_attempt_at = NULL, "
    f"last_error_code = NULL, last_error = NULL, {_CLEAR_LEASE} {_FENCE}",
    "retry": "UPDATE notification_deliveries SET status = 'retry_wait', attempts = attempts + 1, "
    "next_attempt_at = :next, last_error_code = :code, last_error = :error, "
    f"{_CLEAR_LEASE} {_FENCE}",
    "failed": "UPDATE notification_deliveries SET status = 'failed', attempts = attempts + 1, "
    "next_attempt_at = NULL, last_error_code = :code, last_error = :error, "
    f"{_CLEAR_LEASE} {_FENCE}",
    "release": "UPDATE notification_deliveries SET status = 'queued', next_attempt_at = :next, "
    f"{_CLEAR_LEASE} {_FENCE}",
}
_MARK_SQL["coalesced"] = _MARK_SQL["sent"]
_MARK = {kind: text(sql) for kind, sql in _MARK_SQL.items()}
_ATTEMPT_OUTCOME = {
    "sent": "sent",
    "coalesced": "coalesced",
    "retry": "retryable_failed",
    "failed": "failed",
}
_INSERT_ATTEMPT = text(
    "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, outcome, "
    "error_code, error, started_at, finished_at) "
    "VALUES (:delivery_id, :attempt_no, :owner, :outcome, :code, :error, :started, :now)"
)
_INSERT_ATTEMPTS = text(
    "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, outcome, "
    "error_code, error, started_at, finished_at) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), :owner, "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), "
    "json_extract(value, '$[5]'), :now FROM json_each(:rows)"
)


def mark(db: Database, owner: str, outcomes: Iterable[Outcome], now: datetime) -> MarkReport:
    """Write the outcomes of one round in one transaction, each fenced by the lease."""
    stamp = timestamps.fmt(now)
    groups: dict[tuple[object, ...], list[Outcome]] = {}
    for out in outcomes:
        key = (out.kind, out.external_id, out.next_attempt_at, out.error_code, out.error)
        groups.setdefault(key, []).append(out)
    applied: list[Outcome] = []
    fenced: list[int] = []
    with db.write() as conn:
        for (kind, external_id, next_at, code, error), members in groups.items():
            assert isinstance(kind, str)
            params = {
                "ids": json.dumps([m.claimed.delivery_id for m in members]),
                "owner": owner,
                "now": stamp,
                "external_id": external_id,
                "next": next_at,
                "code": code,
                "error": error,
            }
            ours = set(conn.execute(_MARK[kind], params).scalars())
            for m in members:
                if m.claimed.delivery_id in ours:
                    applied.append(m)
                else:
                    fenced.append(m.claimed.delivery_id)
        attempts = [
            [
                out.claimed.delivery_id,
                out.claimed.attempt_no,
                _ATTEMPT_OUTCOME[out.kind],
                out.error_code,
                out.error,
                out.claimed.claimed_at,
            ]
            for out in applied
            if out.kind != "release"
        ]
        if attempts:
            conn.execute(
                _INSERT_ATTEMPTS, {"rows": json.dumps(attempts), "owner": owner, "now": stamp}
            )
    for delivery_id in fenced:
        log.warning(
            "delivery %s: lease no longer held by %s; outcome not written", delivery_id, owner
        )
    return MarkReport(applied=len(applied), fenced_off=tuple(fenced))


_RELEASE_OWNER = text(
    "UPDATE notification_deliveries SET status = 'queued', next_attempt_at = :now, "
    f"{_CLEAR_LEASE} WHERE status = 'leased' AND lease_owner = :owner"
)


def release_all(db: Database, owner: str, now: datetime) -> int:
    """Clean shutdown: every lease this owner holds goes back to `queued`, no attempt counted."""
    with db.write() as conn:
        return conn.execute(_RELEASE_OWNER, {"owner": owner, "now": timestamps.fmt(now)}).rowcount


# -- expiry, retry, wake-up ---------------------------------------------------------------

_SELECT_EXPIRED = text(
    "SELECT id, attempts, max_attempts, lease_owner, updated_at FROM notification_deliveries "
    "WHERE status = 'leased' AND lease_expires_at <= :now"
)
_EXPIRE = text(
    "UPDATE notification_deliveries SET status = :status, attempts = attempts + 1, "
    "next_attempt_at = :next, last_error_code = 'lease_expired', "
    "last_error = :error, lease_owner = NULL, lease_expires_at = NULL, updated_at = :now "
    "WHERE id = :id AND status = 'leased' AND lease_expires_at <= :now"
)

RetryPlan = Callable[[int, int], float | None]
"""(attempt_no, max_attempts) -> seconds until the next attempt, or None for `failed`."""


def expire_leases(db: Database, now: datetime, plan: RetryPlan) -> int:
    """Leases whose owner crashed or hung: count the attempt, back off, let anyone retry."""
    stamp = timestamps.fmt(now)
    with db.write() as conn:
        expired = conn.execute(_SELECT_EXPIRED, {"now": stamp}).all()
        for row in expired:
            attempt_no = row.attempts + 1
            delay = plan(attempt_no, row.max_attempts)
            error = f"lease held by {row.lease_owner} expired before it reported"
            conn.execute(
                _EXPIRE,
                {
                    "id": row.id,
                    "status": "failed" if delay is None else "retry_wait",
                    "next": None
                    if delay is None
                    else timestamps.fmt(now + timedelta(seconds=delay)),
                    "error": error,
                    "now": stamp,
                },
            )
            _insert_expired_attempt(conn, row, attempt_no, error, stamp)
    return len(expired)


def _insert_expired_attempt(
    conn: Connection, row: Sequence[object], attempt_no: int, error: str, stamp: str
) -> None:
    conn.execute(
        _INSERT_ATTEMPT,
        {
            "delivery_id": row[0],
            "attempt_no": attempt_no,
            "owner": row[3],
            "outcome": "lease_expired",
            "code": "lease_expired",
            "error": error,
            "started": row[4],
            "now": stamp,
        },
    )


_RETRY_FAILED = text(
    "UPDATE notification_deliveries SET status = 'queued', attempts = 0, next_attempt_at = :now, "
    "last_error_code = NULL, last_error = NULL, updated_at = :now "
    "WHERE sink = 'desktop' AND status = 'failed'"
)


def retry_failed(db: Database, now: datetime) -> int:
    """Requeue every failed desktop delivery with a fresh attempt budget."""
    return _update_all(db, _RETRY_FAILED, now)


_NEXT_EVENT = text(
    "SELECT min(t) FROM ("
    " SELECT min(next_attempt_at) AS t FROM notification_deliveries "
    "  WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait')"
    " UNION ALL SELECT min(lease_expires_at) FROM notification_deliveries "
    "  WHERE status = 'leased')"
)


def next_event_at(db: Database) -> datetime | None:
    """The earliest time a pending delivery comes due or a lease expires."""
    with db.read() as conn:
        value = conn.execute(_NEXT_EVENT).scalar_one()
    return timestamps.parse(value) if value else None


_FAILED_COUNT = text(
    "SELECT count(*) FROM notification_deliveries WHERE sink = 'desktop' AND status = 'failed'"
)


def failed_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(_FAILED_COUNT).scalar_one())


_MARK_ALL_READ = text("UPDATE notifications SET read_at = :now WHERE read_at IS NULL")


def mark_all_read(db: Database, now: datetime) -> int:
    return _update_all(db, _MARK_ALL_READ, now)
