"""Read-side queries for the CLI and the tray: counts, listings, recent notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from store import schema, timestamps
from store.db import Database

HEARTBEAT_S = 30.0
"""How often a running agent refreshes its heartbeat; three missed ones mean it is gone.
Every heartbeat wakes the agent (and redraws the tray), so it is the idle cost's main term."""


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    notification_id: str
    title: str
    priority: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: str | None
    lease_owner: str | None
    last_error_code: str | None
    last_error: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None


@dataclass(frozen=True)
class AgentRow:
    owner: str
    pid: int
    host: str
    version: str
    mode: str
    notifier: str
    started_at: str
    heartbeat_at: str


@dataclass(frozen=True)
class NotificationRow:
    id: str
    title: str
    message: str
    priority: str
    source: str
    actions_json: str
    created_at: str
    read_at: str | None


@dataclass(frozen=True)
class Status:
    counts: dict[str, int]
    unrouted: int
    live_agents: tuple[AgentRow, ...]
    last_errors: tuple[DeliveryRow, ...]
    last_delivered_at: str | None


def _delivery_query():  # type: ignore[no-untyped-def]
    d, n = schema.deliveries, schema.notifications
    return select(
        d.c.id,
        d.c.notification_id,
        n.c.title,
        n.c.priority,
        d.c.status,
        d.c.attempts,
        d.c.max_attempts,
        d.c.next_attempt_at,
        d.c.lease_owner,
        d.c.last_error_code,
        d.c.last_error,
        d.c.created_at,
        d.c.updated_at,
        d.c.delivered_at,
    ).join(n, n.c.id == d.c.notification_id)


def list_deliveries(db: Database, status: str | None = None, limit: int = 50) -> list[DeliveryRow]:
    """Newest first."""
    d = schema.deliveries
    query = _delivery_query().order_by(d.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(d.c.status == status)
    with db.read() as conn:
        return [DeliveryRow(*row) for row in conn.execute(query)]


def live_agents(db: Database, now: datetime) -> list[AgentRow]:
    a = schema.agents
    cutoff = timestamps.fmt(now - timedelta(seconds=3 * HEARTBEAT_S))
    query = (
        select(
            a.c.owner,
            a.c.pid,
            a.c.host,
            a.c.version,
            a.c.mode,
            a.c.notifier,
            a.c.started_at,
            a.c.heartbeat_at,
        )
        .where(a.c.stopped_at.is_(None), a.c.heartbeat_at >= cutoff)
        .order_by(a.c.started_at)
    )
    with db.read() as conn:
        return [AgentRow(*row) for row in conn.execute(query)]


def status(db: Database, now: datetime, errors: int = 5) -> Status:
    d, n = schema.deliveries, schema.notifications
    with db.read() as conn:
        counts = dict(conn.execute(select(d.c.status, func.count()).group_by(d.c.status)).all())
        unrouted = conn.execute(
            select(func.count()).select_from(n).where(n.c.routed_at.is_(None))
        ).scalar_one()
        last_errors = [
            DeliveryRow(*row)
            for row in conn.execute(
                _delivery_query()
                .where(d.c.last_error_code.is_not(None))
                .order_by(d.c.updated_at.desc())
                .limit(errors)
            )
        ]
        last_delivered = conn.execute(select(func.max(d.c.delivered_at))).scalar_one()
    return Status(
        counts={s: int(counts.get(s, 0)) for s in schema.DELIVERY_STATUSES},
        unrouted=int(unrouted),
        live_agents=tuple(live_agents(db, now)),
        last_errors=tuple(last_errors),
        last_delivered_at=last_delivered,
    )


@dataclass(frozen=True)
class TraySummary:
    pending: int
    failed: int
    last_delivered_at: str | None


# Each count walks a partial index (pending, leased, failed) and the maximum reads one end of
# the delivered_at index: the cost follows the rows that matter, not the history.
_TRAY_SUMMARY = text(
    "SELECT "
    "(SELECT count(*) FROM notification_deliveries "
    "  WHERE sink = 'desktop' AND status IN ('queued', 'retry_wait')) "
    "+ (SELECT count(*) FROM notification_deliveries WHERE status = 'leased'), "
    "(SELECT count(*) FROM notification_deliveries WHERE status = 'failed'), "
    "(SELECT max(delivered_at) FROM notification_deliveries WHERE delivered_at IS NOT NULL)"
)


def tray_summary(db: Database) -> TraySummary:
    """What the tray shows after every tick; `status` is the full (history-sized) report."""
    with db.read() as conn:
        pending, failed, last = conn.execute(_TRAY_SUMMARY).one()
    return TraySummary(int(pending), int(failed), last)


def recent_notifications(db: Database, limit: int = 10) -> list[NotificationRow]:
    """Newest first, archived ones left out."""
    n = schema.notifications
    query = (
        select(
            n.c.id,
            n.c.title,
            n.c.message,
            n.c.priority,
            n.c.source,
            n.c.actions_json,
            n.c.created_at,
            n.c.read_at,
        )
        .where(n.c.archived_at.is_(None))
        .order_by(n.c.seq.desc())
        .limit(limit)
    )
    with db.read() as conn:
        return [NotificationRow(*row) for row in conn.execute(query)]
