"""The tick's first steps in SQL: what is there to do, and routing notifications to
deliveries; plus the SQL fragments the other state-machine modules share.

Policy (which rows a notification gets, how long to back off) is decided by the caller and
passed in as plain values or pure functions; this module only makes it durable, atomically.
Claiming and marking are in `store.leases`, the other transitions in `store.housekeeping`.

Batches travel as one JSON parameter unpacked by `json_each` inside SQLite: one statement per
batch instead of one bound row per notification. State words are spliced in from
`store.model` as literals (not bound), so SQLite still matches the partial indexes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.dialects import (
    Both,
    ids,
    is_postgresql,
    is_text,
    item,
    rows_of,
    skip_locked,
    text_only,
)
from traycourier.store.imports import Imported, add_imported
from traycourier.store.migrations import malformed
from traycourier.store.model import (
    DEFAULT_MAX_ATTEMPTS,
    DESKTOP,
    Code,
    DeliveryStatus,
    Pending,
    RouteDecision,
    RouteReport,
    Unrouted,
    rank_of,
)
from traycourier.store.refusals import Done, one_by_one_if_refused

log = logging.getLogger(__name__)

S = DeliveryStatus
WAITING = f"sink = '{DESKTOP}' AND status IN ('{S.QUEUED}', '{S.RETRY_WAIT}')"
"""Desktop rows waiting to be claimed; literally the WHERE of the partial index
`ix_deliveries_pending`, which is what lets SQLite use it."""
CLEAR_LEASE = (
    "lease_owner = NULL, lease_expires_at = NULL, attempt_started_at = NULL, updated_at = :now"
)
MAX_TITLE_READ = 1000
MAX_BODY_READ = 4000
"""What a claim reads of a title and a body: more than any OS shows (Windows 63/255,
Linux 200/1000 after fitting), never a producer's 10 MB."""
MAX_ACTIONS_READ = 65536
"""What is read of `actions_json`: twenty actions with long links fit; a longer list is cut,
no longer JSON, and offers nothing (the notification is still shown)."""
INSERT_ATTEMPTS = Both.build(
    lambda d: (
        "INSERT INTO notification_delivery_attempts (delivery_id, attempt_no, owner, "
        "outcome, error_code, error, started_at, finished_at) "
        f"SELECT {item(0, d, 'bigint')}, {item(1, d, 'integer')}, {item(2, d)}, {item(3, d)}, "
        f"{item(4, d)}, {item(5, d)}, {item(6, d)}, :now FROM {rows_of('rows', d)}"
    )
)
"""Attempt rows as JSON arrays: [delivery_id, attempt_no, owner, outcome, code, error,
started_at]; one statement for every attempt a transaction records."""


def insert_attempts(db: Database, conn: Connection, rows: list[list[Any]], stamp: str) -> None:
    """Record attempts; one the database refuses is logged, and the others are written."""
    done = one_by_one_if_refused(
        conn,
        lambda some: [
            conn.execute(INSERT_ATTEMPTS.on(conn), {"rows": json.dumps(some), "now": stamp})
        ],
        rows,
        db.translate,
    )
    for row, why in done.refused:
        log.error("delivery %s: attempt %s could not be recorded: %s", row[0], row[1], why)


# -- what is there to do ------------------------------------------------------------------


def passed_over(d: str, table: str = "deliveries", column: str = "id") -> str:
    """`AND <column> NOT IN` the rows this database refused to let the agent write
    (`store.refusals`): they can neither stop the others nor wake the agent again."""
    return f" AND {column} NOT IN ({ids(f'refused_{table}', d)})"


_PENDING = Both.build(
    lambda d: (
        "SELECT "
        f"EXISTS (SELECT 1 FROM notification_deliveries WHERE status = '{S.LEASED}' "
        f"  AND lease_expires_at <= :now{passed_over(d)}), "
        "EXISTS (SELECT 1 FROM notifications WHERE routed_at IS NULL"
        f"  {passed_over(d, 'notifications', 'seq')}), "
        f"EXISTS (SELECT 1 FROM notification_deliveries WHERE {WAITING} "
        f"  AND destination_key = :device{passed_over(d)}), "
        f"EXISTS (SELECT 1 FROM notification_deliveries WHERE {WAITING} "
        f"  AND next_attempt_at <= :now AND destination_key = :device{passed_over(d)}), "
        f"EXISTS (SELECT 1 FROM notification_deliveries WHERE {malformed(d)}{passed_over(d)})"
    )
)


def pending(db: Database, now: datetime, device: str = "") -> Pending:
    """One cheap read that tells a tick which write transactions it needs at all: an idle
    tick then takes no write lock, so it never makes a producer wait."""
    with db.read() as conn:
        return pending_in(conn, db, now, device)


def pending_in(conn: Connection, db: Database, now: datetime, device: str = "") -> Pending:
    """`pending`, inside a read the caller holds (`store.glance`)."""
    params = {"now": timestamps.fmt(now), "device": device, **db.refused.params()}
    row = conn.execute(_PENDING.on(conn), params).one()
    return Pending(*(bool(value) for value in row))


# -- routing ------------------------------------------------------------------------------

# The id, title and message are read by type, never by value: a BLOB or non-UTF-8 id is
# carried from the notification to its delivery inside SQL (joined on `seq`), so no
# producer value has to survive a trip through Python or JSON.
_SELECT_UNROUTED = Both.build(
    lambda d: (
        f"SELECT seq, id, priority, created_at, {is_text('title', d)}, {is_text('message', d)}, "
        f"archived_at IS NOT NULL, {text_only('source', 200, d)}, tag IS NOT NULL, "
        "read_at IS NOT NULL "
        "FROM notifications "
        f"WHERE routed_at IS NULL{passed_over(d, 'notifications', 'seq')} "
        f"ORDER BY seq LIMIT :limit{skip_locked(d)}"
    )
)
_INSERT_DELIVERIES = Both.build(
    lambda d: (
        "INSERT INTO notification_deliveries (notification_id, route_name, sink, "
        "destination_key, status, rank, attempts, max_attempts, next_attempt_at, last_error_code, "
        "last_error, created_at, updated_at) "
        f"SELECT n.id, '{DESKTOP}', '{DESKTOP}', {item(6, d)}, "
        f"{item(1, d)}, {item(2, d, 'integer')}, 0, :max_attempts, "
        f"{item(3, d)}, {item(4, d)}, {item(5, d)}, :now, :now "
        f"FROM {rows_of('rows', d)} JOIN notifications AS n ON n.seq = {item(0, d, 'bigint')} "
        "WHERE true ON CONFLICT (notification_id, route_name, destination_key) DO UPDATE SET "
        # An unrouted notification never has deliveries of its own (routing commits both
        # together): a row in the way belongs to an earlier notification with the same id,
        # deleted without its deliveries (foreign keys off, the sqlite3 shell's default).
        # It becomes this one's; its attempt count goes on, so the attempt log stays whole.
        "status = excluded.status, rank = excluded.rank, "
        "max_attempts = notification_deliveries.attempts + excluded.max_attempts, "
        "next_attempt_at = excluded.next_attempt_at, last_error_code = excluded.last_error_code, "
        "last_error = excluded.last_error, lease_owner = NULL, lease_expires_at = NULL, "
        "attempt_started_at = NULL, external_id = NULL, delivered_at = NULL, "
        "snoozed_until = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at"
    )
)
_MARK_ROUTED = Both.build(
    lambda d: f"UPDATE notifications SET routed_at = :now WHERE seq IN ({ids('seqs', d)})"
)


# A newer notification with the same source and tag replaces an older one still waiting:
# that one is never shown (`skipped`, code `replaced`). One on screen is updated in place by
# the newer one's popup (the claim finds it).
_SUPERSEDE = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.SKIPPED}', "
        f"last_error_code = '{Code.REPLACED}', "
        "last_error = 'replaced by a newer notification with the same tag', "
        f"next_attempt_at = NULL, updated_at = :now WHERE {WAITING} AND notification_id IN ("
        "  SELECT o.id FROM notifications AS n JOIN notifications AS o "
        "  ON o.source = n.source AND o.tag = n.tag AND o.seq < n.seq "
        f"  WHERE n.seq IN ({ids('seqs', d)}) AND n.tag IS NOT NULL)"
    )
)

_RAW_ID = text("SELECT CAST(id AS BLOB) FROM notifications WHERE seq = :seq")


def _unrouted(conn: Connection, row: Sequence[Any]) -> Unrouted:
    (
        seq,
        value,
        priority,
        created_at,
        title_is_text,
        message_is_text,
        archived,
        source,
        tag,
        read,
    ) = row
    readable, is_text = readable_id(value)
    # decoded with replacements, or a real U+FFFD? (PostgreSQL's text is always UTF-8)
    if is_text and "\ufffd" in readable and not is_postgresql(conn):
        raw = conn.execute(_RAW_ID, {"seq": seq}).scalar_one()
        readable, is_text = _decoded(raw)
    flags = bool(title_is_text), bool(message_is_text), bool(archived)
    return Unrouted(
        seq, readable, is_text, priority, created_at, *flags, source or "", bool(tag), bool(read)
    )


def readable_id(value: object) -> tuple[str, bool]:
    """An id as read (text is decoded with replacement characters, a BLOB stays bytes) as
    text to show and log, and whether it is text at all."""
    if isinstance(value, str):
        return value, True
    if isinstance(value, bytes):
        return f"x'{value[:32].hex()}'", False
    return repr(value), False


def _decoded(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return f"x'{raw[:32].hex()}'", False


def route_batch(
    db: Database,
    decide: Callable[[Unrouted], RouteDecision | None],
    now: datetime,
    limit: int = 500,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    imports: Sequence[Imported] = (),
) -> RouteReport:
    """Route up to `limit` unrouted notifications: their rows and `routed_at` commit together,
    so a crash or a replayed tick never creates a row twice or loses one. `imports` (rows of
    followed sources) are added first, in the same transaction (`store.imports`).

    Should the database refuse the batch for one notification (a producer's trigger, a
    constraint this code does not know), each is routed alone (`store.refusals`): one whose
    rows are refused is marked routed without them and logged; one whose `routed_at` is
    refused too is passed over for as long as this database stays open."""
    stamp = timestamps.fmt(now)
    with db.write() as conn:
        imported = add_imported(conn, imports, db.translate) if imports else 0
        params = {"limit": limit, **db.refused.params()}
        found = conn.execute(_SELECT_UNROUTED.on(conn), params).all()
        batch = [_unrouted(conn, row) for row in found]
        if not batch:
            return RouteReport(0, 0, 0, imported)
        units = [(item, _rows(item, decide(item), stamp)) for item in batch]

        def route(some: Sequence[_Unit]) -> list[_Unit]:
            _insert_routes(conn, [row for _, rows in some for row in rows], stamp, max_attempts)
            seqs = json.dumps([item.seq for item, _ in some])
            conn.execute(_MARK_ROUTED.on(conn), {"now": stamp, "seqs": seqs})
            if tagged := [item.seq for item, _ in some if item.tagged]:
                conn.execute(_SUPERSEDE.on(conn), {"now": stamp, "seqs": json.dumps(tagged)})
            return list(some)

        done = one_by_one_if_refused(conn, route, units, db.translate)
        routed = done.results
        for (item, _rows_refused), why in done.refused:
            log.error("notification %s cannot be routed: %s", item.id, why)
            alone: Done[_Unit, _Unit] = one_by_one_if_refused(
                conn, route, [(item, [])], db.translate
            )
            routed += alone.results
            if alone.refused:
                db.refused.notifications.add(item.seq)
                log.error(
                    "notification %s cannot even be marked routed; passed over until the "
                    "database is opened again",
                    item.id,
                )
    rows = [row for _, unit_rows in routed for row in unit_rows]
    queued = sum(1 for r in rows if r[1] == S.QUEUED)
    skipped = len(rows) - queued
    return RouteReport(routed=len(routed), queued=queued, skipped=skipped, imported=imported)


_Unit = tuple[Unrouted, list[list[Any]]]
"""One notification and its delivery rows: routed together or not at all."""


def _rows(item: Unrouted, decision: RouteDecision | None, stamp: str) -> list[list[Any]]:
    """The delivery rows a decision makes, as the JSON arrays `_INSERT_DELIVERIES` reads."""
    if decision is None:
        return []
    next_at = stamp if decision.status == S.QUEUED else None
    rank = rank_of(item.priority)
    return [
        [item.seq, decision.status, rank, next_at, decision.code, decision.reason, key]
        for key in decision.destinations
    ]


def _insert_routes(conn: Connection, rows: list[list[Any]], stamp: str, max_attempts: int) -> None:
    if rows:
        params = {"rows": json.dumps(rows), "max_attempts": max_attempts, "now": stamp}
        conn.execute(_INSERT_DELIVERIES.on(conn), params)
