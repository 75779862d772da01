"""Notifications as the user reads them: the tray's Recent (the newest, and the important
ones a storm pushed out) and the whole history (`traycourier history`), each with what
became of its desktop delivery on this device."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, true

from traycourier.store import schema, timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import MAX_ACTIONS_READ
from traycourier.store.model import DESKTOP, DeliveryStatus, Priority
from traycourier.store.queries import as_text
from traycourier.store.rows import NotificationRow

S = DeliveryStatus


def _recent_query(device: str, archived: bool = False) -> Select[*tuple[Any, ...]]:
    """Notifications newest first (archived ones only when asked), each with what became of
    its desktop delivery on this device."""
    n, d = schema.notifications, schema.deliveries
    return (
        select(
            as_text(n.c.id),
            as_text(n.c.title),
            as_text(n.c.message, 1000),
            as_text(n.c.priority, 20),
            as_text(n.c.source),
            as_text(n.c.actions_json, MAX_ACTIONS_READ),
            as_text(n.c.created_at, 40),
            as_text(n.c.read_at, 40),
            as_text(d.c.status, 20),
            as_text(d.c.last_error_code, 40),
            as_text(d.c.snoozed_until, 40),
            as_text(n.c.answer),
            as_text(n.c.answered_device),
            as_text(d.c.closed_reason, 20),
            n.c.seq,
            as_text(d.c.last_error, 300),
        )
        .select_from(
            n.outerjoin(
                d,
                (d.c.notification_id == n.c.id)
                & (d.c.sink == DESKTOP)
                & (d.c.destination_key == device),
            )
        )
        .where(true() if archived else n.c.archived_at.is_(None))
        .order_by(n.c.seq.desc())
    )


OUTCOMES: dict[str, tuple[str, ...]] = {
    "shown": (DeliveryStatus.SENT,),
    "waiting": (DeliveryStatus.QUEUED, DeliveryStatus.RETRY_WAIT, DeliveryStatus.LEASED),
    "failed": (DeliveryStatus.FAILED,),
    "skipped": (DeliveryStatus.SKIPPED, DeliveryStatus.CANCELLED),
}
"""What became of a notification on this device, as the history window filters by it (also
`new`: not routed yet, and `answered`)."""


def history(
    db: Database,
    *,
    source: str | None = None,
    search: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    device: str = "",
    priority: str | None = None,
    unread: bool = False,
    before: int | None = None,
    outcome: str | None = None,
) -> list[NotificationRow]:
    """Every notification, archived ones too, newest first: only `source`'s, only those
    whose title, body or source holds `search` (any case, taken literally), only those
    created since `since` (and before `until`), only of `priority`, only unread ones, only
    those older than the row `before` (a page further: by the index, so the 1,000th page
    costs what the first does), only those whose delivery here came to `outcome`
    (`OUTCOMES`, `new`, `answered`)."""
    n = schema.notifications
    query = _recent_query(device, archived=True).limit(limit)
    if source is not None:
        query = query.where(n.c.source == source)
    if priority is not None:
        query = query.where(n.c.priority == priority)
    if unread:
        query = query.where(n.c.read_at.is_(None))
    if before is not None:
        query = query.where(n.c.seq < before)
    d = schema.deliveries
    if outcome in OUTCOMES:
        query = query.where(d.c.status.in_([str(s) for s in OUTCOMES[outcome]]))
    elif outcome == "new":
        query = query.where(d.c.status.is_(None), n.c.answer.is_(None))
    elif outcome == "answered":
        query = query.where(n.c.answer.is_not(None))
    if search:
        literal = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(
            n.c.title.ilike(pattern, escape="\\")
            | n.c.message.ilike(pattern, escape="\\")
            | n.c.source.ilike(pattern, escape="\\")
        )
    if since is not None:
        query = query.where(n.c.created_at >= timestamps.fmt(since))
    if until is not None:
        query = query.where(n.c.created_at < timestamps.fmt(until))
    with db.read() as conn:
        return [NotificationRow(*row) for row in conn.execute(query)]


def recent_notifications(db: Database, limit: int = 10, device: str = "") -> list[NotificationRow]:
    """The newest `limit`, each with what became of its desktop delivery on this device
    (shown, waiting, skipped and why)."""
    with db.read() as conn:
        return [NotificationRow(*row) for row in conn.execute(_recent_query(device).limit(limit))]


IMPORTANT_AMONG = 500
"""How far back (in notifications) Recent looks for urgent unread and failed ones that a
storm pushed out of its newest entries: bounded, so the cost does not grow with history."""


def pushed_out(db: Database, newest: int, limit: int, device: str = "") -> list[NotificationRow]:
    """Up to `limit` of the `IMPORTANT_AMONG` notifications after the `newest` ones that
    must stay in view: urgent and unread, or failed on this device (`agent.policy.recent`
    puts them back among the newest)."""
    n, d = schema.notifications, schema.deliveries
    past = (
        select(n.c.seq)
        .where(n.c.archived_at.is_(None))
        .order_by(n.c.seq.desc())
        .offset(newest)
        .limit(IMPORTANT_AMONG)
    )
    important = ((n.c.priority == Priority.URGENT.value) & n.c.read_at.is_(None)) | (
        d.c.status == S.FAILED
    )
    query = _recent_query(device).where(n.c.seq.in_(past)).where(important).limit(limit)
    with db.read() as conn:
        return [NotificationRow(*row) for row in conn.execute(query)]
