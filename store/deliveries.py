"""The tick's hot path in SQL: what is there to do, routing, claiming and marking.

Policy (which rows a notification gets, how long to back off) is decided by the caller and
passed in as plain values or pure functions; this module only makes it durable, atomically.
Every transition out of `leased` is fenced: it applies only while the caller still holds
the lease (same owner, not expired), so a late writer changes nothing.

Batches travel as one JSON parameter unpacked by `json_each` inside SQLite: one statement per
batch instead of one bound row per notification. State words are spliced in from
`store.model` as literals (not bound), so SQLite still matches the partial indexes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.model import (
    DEFAULT_MAX_ATTEMPTS,
    DESKTOP,
    Claimed,
    DeliveryStatus,
    MarkReport,
    Outcome,
    OutcomeKind,
    Pending,
    Priority,
    RouteDecision,
    RouteReport,
    Unrouted,
)

log = logging.getLogger(__name__)

S = DeliveryStatus
WAITING = f"sink = '{DESKTOP}' AND status IN ('{S.QUEUED}', '{S.RETRY_WAIT}')"
"""Desktop rows waiting to be claimed; literally the WHERE of the partial index
`ix_deliveries_pending`, which is what lets SQLite use it."""
CLEAR_LEASE = "lease_owner = NULL, lease_expires_at = NULL, updated_at = :now"
INSERT_ATTEMPTS = text(
    "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, outcome, "
    "error_code, error, started_at, finished_at) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), "
    "json_extract(value, '$[5]'), json_extract(value, '$[6]'), :now FROM json_each(:rows)"
)
"""Attempt rows as JSON arrays: [delivery_id, attempt_no, owner, outcome, code, error,
started_at]; one statement for every attempt a transaction records."""


# -- what is there to do ------------------------------------------------------------------

_PENDING = text(
    "SELECT "
    f"EXISTS (SELECT 1 FROM notification_deliveries WHERE status = '{S.LEASED}' "
    "  AND lease_expires_at <= :now), "
    "EXISTS (SELECT 1 FROM notifications WHERE routed_at IS NULL), "
    f"EXISTS (SELECT 1 FROM notification_deliveries WHERE {WAITING}), "
    f"EXISTS (SELECT 1 FROM notification_deliveries WHERE {WAITING} "
    "  AND next_attempt_at <= :now)"
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
_INSERT_DELIVERIES = text(
    "INSERT INTO notification_deliveries (notification_id, route_name, sink, destination_key, "
    "status, rank, attempts, max_attempts, next_attempt_at, last_error_code, last_error, "
    "created_at, updated_at) "
    f"SELECT json_extract(value, '$[0]'), '{DESKTOP}', '{DESKTOP}', '', "
    "json_extract(value, '$[1]'), json_extract(value, '$[2]'), 0, :max_attempts, "
    "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), "
    ":now, :now FROM json_each(:rows) WHERE true "
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
            next_at = stamp if decision.status == S.QUEUED else None
            rank = Priority(item.priority).rank
            rows.append([item.id, decision.status, rank, next_at, decision.code, decision.reason])
        if rows:
            conn.execute(
                _INSERT_DELIVERIES,
                {"rows": json.dumps(rows), "max_attempts": max_attempts, "now": stamp},
            )
        seqs = json.dumps([item.seq for item in batch])
        conn.execute(_MARK_ROUTED, {"now": stamp, "seqs": seqs})
    queued = sum(1 for r in rows if r[1] == S.QUEUED)
    return RouteReport(routed=len(batch), queued=queued, skipped=len(rows) - queued)


# -- claiming -----------------------------------------------------------------------------

_CLAIM = text(
    f"UPDATE notification_deliveries SET status = '{S.LEASED}', lease_owner = :owner, "
    "lease_expires_at = :expires, updated_at = :now "
    "WHERE id IN (SELECT id FROM notification_deliveries "
    f"  WHERE {WAITING} AND next_attempt_at <= :now "
    "  ORDER BY rank, next_attempt_at, id LIMIT :limit) "
    "RETURNING id, notification_id, attempts, max_attempts, rank, next_attempt_at"
)
_CLAIMED_CONTENT = text(
    "SELECT id, title, message, priority, source, kind, actions_json, created_at "
    "FROM notifications WHERE id IN (SELECT value FROM json_each(:ids))"
)


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
    f"WHERE id IN (SELECT value FROM json_each(:ids)) AND status = '{S.LEASED}' "
    "AND lease_owner = :owner AND lease_expires_at > :now RETURNING id"
)
_SENT = (
    f"UPDATE notification_deliveries SET status = '{S.SENT}', attempts = attempts + 1, "
    "delivered_at = :now, external_id = :external_id, next_attempt_at = NULL, "
    f"last_error_code = NULL, last_error = NULL, {CLEAR_LEASE} {_FENCE}"
)
_MARK = {
    OutcomeKind.SENT: text(_SENT),
    OutcomeKind.COALESCED: text(_SENT),
    OutcomeKind.RETRY: text(
        f"UPDATE notification_deliveries SET status = '{S.RETRY_WAIT}', "
        "attempts = attempts + 1, next_attempt_at = :next, last_error_code = :code, "
        f"last_error = :error, {CLEAR_LEASE} {_FENCE}"
    ),
    OutcomeKind.FAILED: text(
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', attempts = attempts + 1, "
        "next_attempt_at = NULL, last_error_code = :code, last_error = :error, "
        f"{CLEAR_LEASE} {_FENCE}"
    ),
    OutcomeKind.RELEASE: text(
        f"UPDATE notification_deliveries SET status = '{S.QUEUED}', next_attempt_at = :next, "
        f"{CLEAR_LEASE} {_FENCE}"
    ),
}


def mark(db: Database, owner: str, outcomes: Iterable[Outcome], now: datetime) -> MarkReport:
    """Write the outcomes of one round in one transaction, each fenced by the lease."""
    stamp = timestamps.fmt(now)
    groups: dict[tuple[OutcomeKind, str | None, str | None, str | None, str | None], list[Outcome]]
    groups = {}
    for out in outcomes:
        key = (out.kind, out.external_id, out.next_attempt_at, out.error_code, out.error)
        groups.setdefault(key, []).append(out)
    applied: list[Outcome] = []
    fenced: list[int] = []
    with db.write() as conn:
        for (kind, external_id, next_at, code, error), members in groups.items():
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
                owner,
                out.kind.attempt_outcome,
                out.error_code,
                out.error,
                out.claimed.claimed_at,
            ]
            for out in applied
            if out.kind.attempt_outcome is not None
        ]
        if attempts:
            conn.execute(INSERT_ATTEMPTS, {"rows": json.dumps(attempts), "now": stamp})
    for delivery_id in fenced:
        log.warning(
            "delivery %s: lease no longer held by %s; outcome not written", delivery_id, owner
        )
    return MarkReport(applied=len(applied), fenced_off=tuple(fenced))
