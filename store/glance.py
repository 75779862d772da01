"""What a tick reads before it does anything, in one read transaction: the sources to follow,
the user's settings and mutes, and which writes the tick needs at all (`Pending`).

Four reads of their own cost a tick about 1.1 ms before any work (a transaction each: a
connection from the pool, BEGIN, COMMIT); one read holding the four is one snapshot, and
about half of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from traycourier.store import deliveries, mutes, settings, sources
from traycourier.store.choices import Mute, Settings
from traycourier.store.db import Database
from traycourier.store.model import Pending
from traycourier.store.sources import Source


@dataclass(frozen=True)
class Glance:
    sources: list[Source]
    settings: Settings
    mutes: dict[str, Mute]
    """The mutes in force now, by source."""
    pending: Pending
    history_wanted: bool = False
    """Someone asked this agent to serve its history window (`agents.want_history`)."""


_WANTED = text("SELECT history_wanted_at IS NOT NULL FROM agents WHERE owner = :owner")


def take(db: Database, now: datetime, device: str = "", owner: str = "") -> Glance:
    with db.read() as conn:
        return Glance(
            sources.listed_in(conn),
            settings.settings_in(conn),
            mutes.active_in(conn, now),
            deliveries.pending_in(conn, db, now, device),
            bool(conn.execute(_WANTED, {"owner": owner}).scalar()),
        )
