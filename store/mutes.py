"""Muted sources: the `mutes` table. Another program may write it too, so what is read is
checked: a row that is not usable (a source or time that is not text) is left out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from traycourier.store import dialects, schema, timestamps
from traycourier.store.choices import Mute
from traycourier.store.db import Database
from traycourier.store.errors import InvalidInput


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
    m = schema.mutes
    with db.read() as conn:
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
