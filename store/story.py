"""One notification's whole story for `traycourier show ID`: what it said, its links and
answer buttons, each delivery (one per device) and each attempt, and the answer. Read-only;
every value passes `as_text` as anywhere a producer's column is printed."""

from __future__ import annotations

from sqlalchemy import select

from traycourier.store import schema
from traycourier.store.db import Database
from traycourier.store.deliveries import MAX_ACTIONS_READ
from traycourier.store.queries import as_count, as_text, list_deliveries
from traycourier.store.rows import Attempt, Story


def story(db: Database, notification_id: str) -> Story | None:
    """None when there is no notification with that id."""
    n, a = schema.notifications, schema.attempts
    head = select(
        as_text(n.c.id),
        as_text(n.c.title, 4000),
        as_text(n.c.message, 4000),
        as_text(n.c.priority, 20),
        as_text(n.c.source),
        as_text(n.c.kind),
        as_text(n.c.actions_json, MAX_ACTIONS_READ),
        as_text(n.c.created_at, 40),
        as_text(n.c.read_at, 40),
        as_text(n.c.answer),
        as_text(n.c.answered_at, 40),
        as_text(n.c.answered_device),
    ).where(n.c.id == notification_id)
    with db.read() as conn:
        found = conn.execute(head).first()
    if found is None:
        return None
    deliveries = list_deliveries(db, limit=1000, notification_id=notification_id)
    ids = [d.id for d in deliveries]
    steps = (
        select(
            a.c.delivery_id,
            as_count(a.c.attempt_no),
            as_text(a.c.owner),
            as_text(a.c.outcome, 20),
            as_text(a.c.error_code, 40),
            as_text(a.c.error, 1000),
            as_text(a.c.started_at, 40),
            as_text(a.c.finished_at, 40),
        )
        .where(a.c.delivery_id.in_(ids))
        .order_by(a.c.id)
    )
    with db.read() as conn:
        attempts = tuple(Attempt(*row) for row in conn.execute(steps)) if ids else ()
    v = [None if value is None else str(value) for value in found]
    return Story(
        v[0] or notification_id, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
        v[11], deliveries=tuple(reversed(deliveries)), attempts=attempts,
    )  # fmt: skip
