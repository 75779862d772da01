"""Muted sources: the `mutes` table. Another program may write it too, so what is read is
checked: a row that is not usable (a source or time that is not text) is left out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, text

from traycourier.store import dialects, schema, timestamps
from traycourier.store.choices import Mute
from traycourier.store.db import Database
from traycourier.store.deliveries import WAITING
from traycourier.store.dialects import Both, ids
from traycourier.store.errors import InvalidInput
from traycourier.store.model import Code, DeliveryStatus, Priority


def mute(
    db: Database, source: str, until: datetime | None, urgent_too: bool, now: datetime
) -> Mute:
    if not source.strip():
        raise InvalidInput("a source to mute needs a name")
    if until is not None and until <= now:
        raise InvalidInput("a mute must end in the future")
    stored = None if until is None else timestamps.fmt(until)
    values = {"source": source, "until": stored, "urgent_too": int(urgent_too)}
    with db.write() as conn:
        stmt = dialects.insert(conn, schema.mutes).values(**values, created_at=timestamps.fmt(now))
        conn.execute(stmt.on_conflict_do_update(index_elements=["source"], set_=values))
    return Mute(source, stored, urgent_too)


def unmute(db: Database, source: str) -> bool:
    with db.write() as conn:
        return bool(
            conn.execute(delete(schema.mutes).where(schema.mutes.c.source == source)).rowcount
        )


def active(db: Database, now: datetime) -> dict[str, Mute]:
    """The mutes in force now, by source."""
    with db.read() as conn:
        return active_in(conn, now)


def active_in(conn: Connection, now: datetime) -> dict[str, Mute]:
    """`active`, inside a read the caller holds (`store.glance`)."""
    m = schema.mutes
    rows = conn.execute(select(m.c.source, m.c.until, m.c.urgent_too)).all()
    found = {}
    for source, until, urgent_too in rows:
        if not isinstance(source, str) or not (until is None or isinstance(until, str)):
            continue
        try:
            if until is not None and timestamps.parse(until) <= now:
                continue
        except ValueError:
            continue
        found[source] = Mute(source, until, urgent_too != 0)
    return found


_WAITING_FROM = text(
    f"SELECT id FROM notification_deliveries WHERE {WAITING} AND notification_id IN ("
    "  SELECT id FROM notifications WHERE source = :source "
    f"  AND (:urgent_too OR priority != '{Priority.URGENT}'))"
)
_SKIP_MUTED = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{DeliveryStatus.SKIPPED}', "
        f"last_error_code = '{Code.MUTED}', last_error = 'its source was muted while it waited', "
        f"next_attempt_at = NULL, updated_at = :now WHERE id IN ({ids('ids', d)}) "
        f"AND {WAITING} RETURNING id"
    )
)


def skip_waiting(db: Database, muted: Mute, now: datetime) -> int:
    """A mute applies to what waits too (queued, held by a pause or quiet hours, snoozed),
    as to what comes: skipped with the reason (`muted`), never shown later. How many."""
    from traycourier.store.housekeeping import update_each

    params = {"source": muted.source, "urgent_too": muted.urgent_too, "now": timestamps.fmt(now)}
    with db.read() as conn:  # usually none: the write lock is taken only when some wait
        found = list(conn.execute(_WAITING_FROM, params).scalars())
    if not found:
        return 0
    with db.write() as conn:  # the UPDATE checks again that each still waits
        return len(update_each(db, conn, _SKIP_MUTED, found, params).results)
