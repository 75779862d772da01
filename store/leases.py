"""The lease: claiming due deliveries, noting that a notifier call started, and writing what
happened, each fenced by the lease (same owner, not expired) so a late writer changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import (
    ANY_RANK,
    CLEAR_LEASE,
    MAX_BODY_READ,
    MAX_TITLE_READ,
    WAITING,
    insert_attempts,
    passed_over,
    readable_id,
)
from traycourier.store.dialects import Both, ids, is_count, skip_locked, text_only
from traycourier.store.model import (
    Claimed,
    Code,
    DeliveryStatus,
    MarkReport,
    Outcome,
    OutcomeKind,
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
        f"attempt_started_at = NULL, {CLEAR_LEASE} WHERE id = :id"
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
        "substr(n.actions_json, 1, 4096), n.created_at "
        "FROM notification_deliveries AS d "
        "LEFT JOIN notifications AS n ON n.id = d.notification_id "
        f"WHERE d.id IN ({ids('ids', d)})"
    )
)
_ORPHANED = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', "
        f"last_error_code = '{Code.ORPHANED}', last_error = 'its notification no longer exists', "
        f"next_attempt_at = NULL, attempt_started_at = NULL, {CLEAR_LEASE} "
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
    stamp = timestamps.fmt(now)
    params = {
        "owner": owner,
        "expires": timestamps.fmt(now + lease_ttl),
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
        orphans = [row.id for row in leased if content[row.id][0] is None]
        if orphans:
            conn.execute(_ORPHANED.on(conn), {"ids": json.dumps(orphans), "now": stamp})
        leased.sort(key=lambda row: (row.rank, row.next_attempt_at, row.id))
        found = [
            _claimed(row, content[row.id], stamp, started)
            for row in leased
            if row.id not in orphans
        ]
        if found and not started:
            first = found[0]
            conn.execute(
                _STARTED.on(conn), {"ids": f"[{first.delivery_id}]", "owner": owner, "now": stamp}
            )
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


def _claimed(row: Any, found: Sequence[Any], stamp: str, started: bool) -> Claimed:
    _seq, ntf_id, title, message, priority, source, kind, actions, created = found
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
        started=started,
    )


_STARTED = Both.build(
    lambda d: (
        "UPDATE notification_deliveries SET attempt_started_at = :now "
        f"WHERE id IN ({ids('ids', d)}) AND status = '{S.LEASED}' AND lease_owner = :owner"
    )
)


def mark_started(db: Database, owner: str, delivery_ids: Sequence[int], now: datetime) -> None:
    """The notifier is about to be called for these: from now on an expired lease counts
    an attempt (the call may have shown it), before this it does not."""
    with db.write() as conn:
        params = {"owner": owner, "now": timestamps.fmt(now)}
        done = one_by_one_if_refused(
            conn,
            lambda some: [conn.execute(_STARTED.on(conn), {**params, "ids": json.dumps(some)})],
            list(delivery_ids),
            db.translate,
        )
    for delivery_id, why in done.refused:  # the call goes ahead: at least once, never lost
        log.warning("delivery %s: its call could not be marked started: %s", delivery_id, why)


# -- marking ------------------------------------------------------------------------------


# Outcomes that share their values are written by one statement over a JSON list of ids;
# RETURNING tells which rows were still ours.
def _fenced(update: str) -> Both:
    return Both.build(
        lambda d: (
            f"{update} WHERE id IN ({ids('ids', d)}) AND status = '{S.LEASED}' "
            "AND lease_owner = :owner AND lease_expires_at > :now RETURNING id"
        )
    )


_SENT = _fenced(
    f"UPDATE notification_deliveries SET status = '{S.SENT}', attempts = attempts + 1, "
    "delivered_at = :now, external_id = :external_id, next_attempt_at = NULL, "
    f"last_error_code = NULL, last_error = NULL, {CLEAR_LEASE}"
)
_MARK = {
    OutcomeKind.SENT: _SENT,
    OutcomeKind.COALESCED: _SENT,
    OutcomeKind.RETRY: _fenced(
        f"UPDATE notification_deliveries SET status = '{S.RETRY_WAIT}', "
        "attempts = attempts + 1, next_attempt_at = :next, last_error_code = :code, "
        f"last_error = :error, {CLEAR_LEASE}"
    ),
    OutcomeKind.FAILED: _fenced(
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', attempts = attempts + 1, "
        "next_attempt_at = NULL, last_error_code = :code, last_error = :error, "
        f"{CLEAR_LEASE}"
    ),
    OutcomeKind.RELEASE: _fenced(
        f"UPDATE notification_deliveries SET status = '{S.QUEUED}', next_attempt_at = :next, "
        f"{CLEAR_LEASE}"
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
                "owner": owner,
                "now": stamp,
                "external_id": external_id,
                "next": next_at,
                "code": code,
                "error": error,
            }

            def write(
                some: Sequence[Outcome], kind: OutcomeKind = kind, params: Any = params
            ) -> list[int]:
                ids_ = json.dumps([m.claimed.delivery_id for m in some])
                return list(conn.execute(_MARK[kind].on(conn), {**params, "ids": ids_}).scalars())

            done = one_by_one_if_refused(conn, write, members, db.translate)
            ours = set(done.results)
            for m in members:
                if m.claimed.delivery_id in ours:
                    applied.append(m)
                elif all(m is not r for r, _ in done.refused):
                    fenced.append(m.claimed.delivery_id)
            for m, why in done.refused:  # still leased by us: never claimed again meanwhile
                db.refused.deliveries.add(m.claimed.delivery_id)
                log.error(
                    "delivery %s: the database refused its outcome (%s): %s; passed over "
                    "until the database is opened again",
                    m.claimed.delivery_id,
                    m.kind,
                    why,
                )
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
        insert_attempts(db, conn, attempts, stamp)
    for delivery_id in fenced:
        log.warning(
            "delivery %s: lease no longer held by %s; outcome not written", delivery_id, owner
        )
    return MarkReport(applied=len(applied), fenced_off=tuple(fenced))
