"""Sources, on our side: the list of followed databases (the `sources` table), and the read
state of what was imported from them into `notifications` (the import: `store.imports`).

A followed row becomes a notification as any producer would write it, with `dedupe_key`
`<source>:<its id>`: two agents, two devices or a restart import it once. What was read
here and what was read there are matched through that key, so nothing else is stored per
row. The SQL on the followed file itself is in the module of its kind (`store.reverbcode`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, text

from traycourier.store import dialects, schema, timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import WAITING
from traycourier.store.dialects import Both, texts
from traycourier.store.errors import InvalidInput
from traycourier.store.model import Code, DeliveryStatus

MAX_NAME = 40


@dataclass(frozen=True)
class Source:
    """One followed database, as the list holds it (another program may have written the
    list: `listed` leaves out a row it cannot use)."""

    name: str
    kind: str
    location: str
    options: dict[str, Any]
    added_at: str = ""
    problem: str | None = None
    problem_at: str | None = None

    @property
    def key_prefix(self) -> str:
        """What every `dedupe_key` of its rows starts with."""
        return f"{self.name}:"


def add(db: Database, source: Source) -> bool:
    """Follow a source, or change where and how one is followed; True when it is new."""
    if not source.name or len(source.name) > MAX_NAME or ":" in source.name:
        raise InvalidInput(f"a source's name is 1 to {MAX_NAME} characters without ':'")
    values = {
        "kind": source.kind,
        "location": source.location,
        "options_json": json.dumps(source.options, sort_keys=True),
        "problem": None,
        "problem_at": None,
    }
    s = schema.sources
    with db.write() as conn:
        existed = conn.execute(select(s.c.name).where(s.c.name == source.name)).first()
        stmt = dialects.insert(conn, s).values(name=source.name, added_at=source.added_at, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
    return existed is None


def remove(db: Database, name: str) -> bool:
    """Stop following; what was imported stays (it is our history now)."""
    with db.write() as conn:
        return bool(
            conn.execute(delete(schema.sources).where(schema.sources.c.name == name)).rowcount
        )


_LISTED = text(
    "SELECT name, kind, location, options_json, added_at, problem, problem_at FROM sources "
    "ORDER BY name"
)


def listed(db: Database) -> list[Source]:
    with db.read() as conn:
        return listed_in(conn)


def listed_in(conn: Connection) -> list[Source]:
    """`listed`, inside a read the caller holds (`store.glance`)."""
    rows = conn.execute(_LISTED).all()
    found = []
    for name, kind, location, options, added_at, problem, problem_at in rows:
        if not all(isinstance(v, str) for v in (name, kind, location)) or ":" in name:
            continue  # written by another program, and unusable
        try:
            parsed = json.loads(options) if isinstance(options, str) else {}
        except ValueError:
            parsed = {}
        found.append(
            Source(
                name,
                kind,
                location,
                parsed if isinstance(parsed, dict) else {},
                str(added_at or ""),
                _text(problem),
                _text(problem_at),
            )
        )
    return found


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


_SET_PROBLEM = text(
    "UPDATE sources SET problem = :problem, problem_at = :now "
    "WHERE name = :name AND problem IS NOT :problem"
)
_SET_PROBLEM_PG = text(
    "UPDATE sources SET problem = :problem, problem_at = :now "
    "WHERE name = :name AND problem IS DISTINCT FROM :problem"
)


def record_problem(db: Database, name: str, problem: str | None, now: datetime) -> None:
    """What stops following a source now (None: nothing); written only when it changes, so a
    source that keeps failing does not wake every agent each time it is retried."""
    with db.write() as conn:
        stmt = _SET_PROBLEM_PG if dialects.is_postgresql(conn) else _SET_PROBLEM
        conn.execute(stmt, {"problem": problem, "now": timestamps.fmt(now), "name": name})


_KNOWN = Both.build(
    lambda d: (
        "SELECT dedupe_key, read_at IS NOT NULL OR answer IS NOT NULL FROM notifications "
        f"WHERE dedupe_key IN ({texts('keys', d)})"
    )
)


def known(db: Database, keys: Sequence[str]) -> dict[str, bool]:
    """Which of these keys were imported already, and whether each was read here since."""
    if not keys:
        return {}
    with db.read() as conn:
        rows = conn.execute(_KNOWN.on(conn), {"keys": json.dumps(list(keys))}).all()
    return {key: bool(read) for key, read in rows if isinstance(key, str)}


_UNREAD_HERE = Both(
    text(
        "SELECT dedupe_key FROM notifications WHERE dedupe_key >= :low AND dedupe_key < :high "
        "AND read_at IS NULL AND answer IS NULL"
    ),
    # a server's collation may not order ':' and ';' as bytes do
    text(
        "SELECT dedupe_key FROM notifications WHERE starts_with(dedupe_key, :low) "
        "AND read_at IS NULL AND answer IS NULL"
    ),
)


_COUNT_UNREAD_HERE = Both(
    text(
        "SELECT count(*) FROM notifications WHERE dedupe_key >= :low AND dedupe_key < :high "
        "AND read_at IS NULL AND answer IS NULL"
    ),
    text(
        "SELECT count(*) FROM notifications WHERE starts_with(dedupe_key, :low) "
        "AND read_at IS NULL AND answer IS NULL"
    ),
)


def unread_here_count(db: Database, prefix: str) -> int:
    """How many of a source's rows are not read here: the partial index
    `ix_notifications_unread_imports` holds exactly those, so this costs as little as
    `unread_here` below without reading the keys."""
    with db.read() as conn:
        params = {"low": prefix, "high": _after(prefix)}
        return int(conn.execute(_COUNT_UNREAD_HERE.on(conn), params).scalar_one())


def _after(prefix: str) -> str:
    """The first text after every text that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def unread_here(db: Database, prefix: str) -> set[str]:
    """The keys of a source's rows not read here: as many as are unread there, since one
    read (or gone) there is marked read here (`read_elsewhere`). A range, so the unique
    index on `dedupe_key` serves it on SQLite."""
    with db.read() as conn:
        params = {"low": prefix, "high": _after(prefix)}
        rows = conn.execute(_UNREAD_HERE.on(conn), params).all()
    return {key for (key,) in rows if isinstance(key, str)}


_READ_ELSEWHERE = Both.build(
    lambda d: (
        "UPDATE notifications SET read_at = :now "
        f"WHERE dedupe_key IN ({texts('keys', d)}) AND read_at IS NULL"
    )
)
_SKIP_UNSHOWN = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{DeliveryStatus.SKIPPED}', "
        f"last_error_code = '{Code.READ_ELSEWHERE}', last_error = :why, "
        f"next_attempt_at = NULL, updated_at = :now WHERE {WAITING} AND notification_id IN ("
        f"  SELECT id FROM notifications WHERE dedupe_key IN ({texts('keys', d)}))"
    )
)


def read_elsewhere(db: Database, keys: Sequence[str], why: str, now: datetime) -> None:
    """Rows read (or gone) in the followed program: read here too. One still waiting is never
    shown (`skipped`, code `read_elsewhere`); a popup on screen is closed by the agent that
    shows it, as for any notification read (`popups.close_dealt_with`)."""
    if not keys:
        return
    params = {"keys": json.dumps(list(keys)), "now": timestamps.fmt(now), "why": why}
    with db.write() as conn:
        conn.execute(_SKIP_UNSHOWN.on(conn), params)
        conn.execute(_READ_ELSEWHERE.on(conn), params)
