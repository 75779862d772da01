"""The lease: claiming due deliveries, in claim order, for one agent until it expires
(writing what became of them is `store.marks`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import (
    CLEAR_LEASE,
    MAX_ACTIONS_READ,
    MAX_BODY_READ,
    MAX_TITLE_READ,
    WAITING,
    passed_over,
    readable_id,
)
from traycourier.store.dialects import (
    Both,
    ids,
    integer_only,
    is_count,
    skip_locked,
    text_only,
)
from traycourier.store.marks import STARTED
from traycourier.store.model import (
    ANY_RANK,
    Claimed,
    Code,
    DeliveryStatus,
)
from traycourier.store.refusals import one_by_one_if_refused

log = logging.getLogger(__name__)

S = DeliveryStatus


# -- claiming -----------------------------------------------------------------------------


def _due(d: str) -> str:
    """This agent's due deliveries in claim order, as many as it takes at once."""
    return (
        "SELECT id FROM notification_deliveries "
        f"WHERE {WAITING} AND next_attempt_at <= :now AND rank <= :max_rank "
        "AND destination_key = :device "
        # counts another program broke are failed by `fail_malformed`, never computed with
        f"AND {is_count('attempts', d)} AND {is_count('max_attempts', d)}{passed_over(d)} "
        f"ORDER BY rank, next_attempt_at, id LIMIT :limit{skip_locked(d)}"
    )


_LEASE = (
    f"UPDATE notification_deliveries SET status = '{S.LEASED}', lease_owner = :owner, "
    "lease_expires_at = :expires, attempt_started_at = :started, updated_at = :now "
)
_CLAIM = Both.build(
    lambda d: (
        f"{_LEASE}WHERE id IN ({_due(d)}) RETURNING id, attempts, max_attempts, rank, "
        "next_attempt_at"
    )
)
_DUE = Both.build(_due)
_CLAIM_ONE = Both.build(
    lambda d: (
        f"{_LEASE}WHERE id = :id AND {WAITING} "
        "RETURNING id, attempts, max_attempts, rank, next_attempt_at"
    )
)
_REFUSED = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', "
        f"last_error_code = '{Code.REFUSED}', last_error = :why, next_attempt_at = NULL, "
        f"{CLEAR_LEASE} WHERE id = :id"
    )
)
# Reads are bounded: a 10 MB title costs what the OS can show, not 10 MB per row. A value
# that is not text (a BLOB) reads as NULL; a delivery whose notification is gone reads
# n.seq NULL and is failed as `orphaned` in the same transaction.
_CLAIMED_CONTENT = Both.build(
    lambda d: (
        "SELECT d.id, n.seq, n.id, "
        f"{text_only('n.title', MAX_TITLE_READ, d)}, {text_only('n.message', MAX_BODY_READ, d)}, "
        "n.priority, substr(n.source, 1, 200), substr(n.kind, 1, 200), "
        f"substr(n.actions_json, 1, {MAX_ACTIONS_READ}), n.created_at, "
        f"{text_only('n.tag', 200, d)}, {integer_only('n.progress', d)} "
        "FROM notification_deliveries AS d "
        "LEFT JOIN notifications AS n ON n.id = d.notification_id "
        f"WHERE d.id IN ({ids('ids', d)})"
    )
)
# The popup a tagged one updates in place: an older one of the same source and tag, still
# on screen on this device (asked only for the claimed rows that have a tag).
_REPLACES = Both.build(
    lambda d: (
        "SELECT d.id, (SELECT o_d.external_id FROM notifications AS o "
        "  JOIN notification_deliveries AS o_d ON o_d.notification_id = o.id "
        "  WHERE o.source = n.source AND o.tag = n.tag AND o.seq < n.seq "
        "  AND o_d.destination_key = d.destination_key AND o_d.external_id IS NOT NULL "
        "  AND o_d.closed_reason IS NULL ORDER BY o.seq DESC LIMIT 1) "
        "FROM notification_deliveries AS d JOIN notifications AS n ON n.id = d.notification_id "
        f"WHERE d.id IN ({ids('ids', d)})"
    )
)
_ORPHANED = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', "
        f"last_error_code = '{Code.ORPHANED}', last_error = 'its notification no longer exists', "
        f"next_attempt_at = NULL, {CLEAR_LEASE} "
        f"WHERE id IN ({ids('ids', d)})"
    )
)


def claim(
    db: Database,
    owner: str,
    now: datetime,
    lease_ttl: timedelta,
    limit: int,
    *,
    started: bool = False,
    max_rank: int = ANY_RANK,
    device: str = "",
) -> list[Claimed]:
    """Lease up to `limit` due desktop deliveries in claim order (priority, due time,
    arrival) in one write transaction; no other agent can lease them until it expires.

    `started`: the caller will call the notifier for all of them at once (a fast notifier),
    so the calls count as started now. Otherwise only the first in claim order is marked
    started (its call follows at once: a separate write would only delay it), and the caller
    calls `mark_started` before each later one. `max_rank`: only these priorities and above
    (quiet hours' breakthrough). `device`: this agent's device (its deliveries only)."""
    stamp, expires = timestamps.fmt(now), timestamps.fmt(now + lease_ttl)
    params = {
        "owner": owner,
        "expires": expires,
        "now": stamp,
        "limit": limit,
        "started": stamp if started else None,
        "max_rank": max_rank,
        "device": device,
    }
    params.update(db.refused.params())
    with db.write() as conn:
        leased = _lease(db, conn, params)
        if not leased:
            return []
        batch = json.dumps([row.id for row in leased])
        found_rows = conn.execute(_CLAIMED_CONTENT.on(conn), {"ids": batch})
        content = {row[0]: row[1:] for row in found_rows}
        tagged = [key for key, row in content.items() if row[9] is not None]
        replaces: dict[object, object] = dict(
            conn.execute(_REPLACES.on(conn), {"ids": json.dumps(tagged)}).all() if tagged else ()
        )
        orphans = [row.id for row in leased if content[row.id][0] is None]
        if orphans:
            conn.execute(_ORPHANED.on(conn), {"ids": json.dumps(orphans), "now": stamp})
        leased.sort(key=lambda row: (row.rank, row.next_attempt_at, row.id))
        found = [
            _claimed(row, content[row.id], stamp, expires, started, replaces.get(row.id))
            for row in leased
            if row.id not in orphans
        ]
        if found and not started:
            first = found[0]
            params = {"ids": f"[{first.delivery_id}]", "owner": owner, "now": stamp}
            marked = one_by_one_if_refused(
                conn, lambda _: [conn.execute(STARTED.on(conn), params)], [first], db.translate
            )
            if not marked.refused:  # else its call is marked just before it is made
                found[0] = replace(first, started=True)
    for delivery_id in orphans:
        log.warning("delivery %s failed: its notification no longer exists", delivery_id)
    return found


def _lease(db: Database, conn: Connection, params: dict[str, Any]) -> list[Any]:
    """Lease the due rows in one statement; should the database refuse it (a producer's
    trigger), one row at a time: a refused row fails with the database's reason (code
    `refused`), or, if even that is refused, is passed over while the database is open."""
    done = one_by_one_if_refused(
        conn, lambda _: list(conn.execute(_CLAIM.on(conn), params).all()), [None], db.translate
    )
    if not done.refused:
        return done.results
    due = [row.id for row in conn.execute(_DUE.on(conn), params)]
    claimed = one_by_one_if_refused(
        conn,
        lambda ids: list(conn.execute(_CLAIM_ONE.on(conn), {**params, "id": ids[0]}).all()),
        due,
        db.translate,
    )
    for delivery_id, why in claimed.refused:
        record_refusal(db, conn, delivery_id, f"the database refused its claim: {why}", params)
    return claimed.results


def record_refusal(
    db: Database, conn: Connection, delivery_id: int, why: str, params: dict[str, Any]
) -> None:
    """Fail a delivery the database would not let the agent move, with the reason; if even
    that is refused, pass it over for as long as the database stays open."""
    failed = one_by_one_if_refused(
        conn,
        lambda _: [conn.execute(_REFUSED.on(conn), {**params, "id": delivery_id, "why": why})],
        [delivery_id],
        db.translate,
    )
    if failed.refused:
        db.refused.deliveries.add(delivery_id)
        log.error(
            "delivery %s: %s; passed over until the database is opened again", delivery_id, why
        )
    else:
        log.error("delivery %s failed: %s", delivery_id, why)


def _claimed(
    row: Any, found: Sequence[Any], stamp: str, expires: str, started: bool, replaces: object
) -> Claimed:
    _seq, ntf_id, title, message, priority, source, kind, actions, created, tag, progress = found
    return Claimed(
        delivery_id=row.id,
        notification_id=ntf_id if isinstance(ntf_id, str) else readable_id(ntf_id)[0],
        attempt_no=row.attempts + 1,
        max_attempts=row.max_attempts,
        rank=row.rank,
        title=None if title is None else title[:MAX_TITLE_READ],  # read as bytes: now characters
        message=None if message is None else message[:MAX_BODY_READ],
        priority=priority if isinstance(priority, str) else str(priority),
        source=source if isinstance(source, str) else "",
        kind=kind if isinstance(kind, str) else "",
        actions_json=actions if isinstance(actions, str) else "[]",
        created_at=created if isinstance(created, str) else str(created),
        claimed_at=stamp,
        lease_expires_at=expires,
        started=started,
        tag=tag if isinstance(tag, str) else None,
        progress=progress if isinstance(progress, int) and 0 <= progress <= 100 else None,
        replaces=replaces if isinstance(replaces, str) else None,
    )
