"""State transitions outside the tick's hot path: expired leases, a clean shutdown, switching
notifications off, "Retry failed", and when the next row comes due.

Every statement here moves rows between the states of `store.model.DeliveryStatus`; the
time is passed in, never read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, TextClause, text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import (
    CLEAR_LEASE,
    WAITING,
    insert_attempts,
    passed_over,
)
from traycourier.store.dialects import (
    Both,
    ids,
    is_count,
    is_text,
    is_time,
    item,
    rows_of,
    shown_value,
    skip_locked,
)
from traycourier.store.errors import InvalidInput
from traycourier.store.migrations import malformed
from traycourier.store.model import (
    ANY_RANK,
    DEFAULT_MAX_ATTEMPTS,
    DESKTOP,
    AttemptOutcome,
    Code,
    DeliveryStatus,
)
from traycourier.store.refusals import Done, one_by_one_if_refused

S = DeliveryStatus
log = logging.getLogger(__name__)

RetryPlan = Callable[[int, int], float | None]
"""(attempt_no, max_attempts) -> seconds until the next attempt, or None for `failed`."""

_SELECT_EXPIRED = Both.build(
    lambda d: (
        "SELECT id, attempts, max_attempts, lease_owner, updated_at, attempt_started_at "
        f"FROM notification_deliveries WHERE status = '{S.LEASED}' AND lease_expires_at <= :now "
        # counts another program broke are failed by `fail_malformed`, not computed with
        f"AND {is_count('attempts', d)} AND {is_count('max_attempts', d)}{passed_over(d)}"
        # on a server two agents may expire at once: each takes the rows the other has not
        f"{skip_locked(d)}"
    )
)
_EXPIRE = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = {item(1, d)}, "
        f"attempts = attempts + {item(4, d, 'integer')}, "
        f"next_attempt_at = {item(2, d)}, "
        f"last_error_code = CASE WHEN {item(4, d, 'integer')} = 1 "
        f"  THEN '{Code.LEASE_EXPIRED}' ELSE last_error_code END, "
        f"last_error = CASE WHEN {item(4, d, 'integer')} = 1 "
        f"  THEN {item(3, d)} ELSE last_error END, "
        f"{CLEAR_LEASE} FROM {rows_of('rows', d)} "
        f"WHERE notification_deliveries.id = {item(0, d, 'bigint')} "
        f"AND status = '{S.LEASED}' AND lease_expires_at <= :now"
    )
)


def expire_leases(db: Database, now: datetime, plan: RetryPlan) -> int:
    """Leases whose owner crashed, hung or could not write in time. A row whose notifier call
    had started may have been shown: the attempt counts and it backs off. A row whose call
    never started goes back to `queued` at once, no attempt counted."""
    stamp = timestamps.fmt(now)
    with db.write() as conn:
        params = {"now": stamp, **db.refused.params()}
        expired = conn.execute(_SELECT_EXPIRED.on(conn), params).all()
        if not expired:
            return 0
        updates, attempts = [], []
        for row in expired:
            if row.attempt_started_at is None:
                updates.append([row.id, S.QUEUED, stamp, None, 0])
                continue
            attempt_no = row.attempts + 1
            delay = plan(attempt_no, row.max_attempts)
            error = f"lease held by {row.lease_owner} expired before it reported"
            if delay is None:
                updates.append([row.id, S.FAILED, None, error, 1])
            else:
                next_at = timestamps.fmt(now + timedelta(seconds=delay))
                updates.append([row.id, S.RETRY_WAIT, next_at, error, 1])
            outcome = AttemptOutcome.LEASE_EXPIRED
            started = row.attempt_started_at
            attempts.append([row.id, attempt_no, row.lease_owner, outcome, outcome, error, started])
        done = one_by_one_if_refused(
            conn,
            lambda some: [conn.execute(_EXPIRE.on(conn), {"rows": json.dumps(some), "now": stamp})],
            updates,
            db.translate,
        )
        refused = {update[0] for update, _ in done.refused}
        for update, why in done.refused:
            db.refused.deliveries.add(update[0])
            log.error("delivery %s: the database refused to end its lease: %s", update[0], why)
        insert_attempts(db, conn, [a for a in attempts if a[0] not in refused], stamp)
    return len(expired) - len(refused)


def _broken_column(dialect: str) -> str:
    """Which agent-written column of a `malformed` row is broken, and to what."""
    checks = [
        (is_count("attempts", dialect), "attempts", True),
        (is_count("max_attempts", dialect), "max_attempts", True),
        (f"status = '{S.LEASED}' OR {is_count('rank', dialect)}", "rank", True),
        (
            f"status = '{S.LEASED}' OR {is_text('destination_key', dialect)}",
            "destination_key",
            False,
        ),
        (
            f"status = '{S.LEASED}' OR {is_time('next_attempt_at', dialect)}",
            "next_attempt_at",
            False,
        ),
    ]
    cases = " ".join(
        f"WHEN NOT ({ok}) THEN '{column} = ' || {shown_value(column, dialect, number=number)}"
        for ok, column, number in checks
    )
    last = f"'lease_expires_at = ' || {shown_value('lease_expires_at', dialect)}"
    return f"'another program wrote ' || CASE {cases} ELSE {last} END"


_FAIL_MALFORMED = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.FAILED}', "
        f"last_error_code = '{Code.INVALID_ROW}', last_error = {_broken_column(d)}, "
        # what Retry failed needs to work again: counts it can compute with
        f"attempts = CASE WHEN {is_count('attempts', d)} THEN attempts ELSE 0 END, "
        f"max_attempts = CASE WHEN {is_count('max_attempts', d)} THEN max_attempts "
        f"  ELSE {DEFAULT_MAX_ATTEMPTS} END, "
        f"rank = CASE WHEN {is_count('rank', d)} THEN rank ELSE 3 END, "
        f"next_attempt_at = NULL, {CLEAR_LEASE} WHERE id IN ({ids('ids', d)}) "
        f"AND {malformed(d)} RETURNING id, last_error"
    )
)
_MALFORMED = Both.build(
    lambda d: f"SELECT id FROM notification_deliveries WHERE {malformed(d)}{passed_over(d)}"
)


def fail_malformed(db: Database, now: datetime) -> int:
    """Deliveries whose agent-written columns another program broke fail alone, each with
    what was wrong (`invalid_row`), instead of stopping every claim or waiting forever."""
    params = {"now": timestamps.fmt(now), **db.refused.params()}
    with db.write() as conn:
        found = list(conn.execute(_MALFORMED.on(conn), params).scalars())
        done = update_each(db, conn, _FAIL_MALFORMED, found, params)
    for delivery_id, reason in done.results:
        log.error("delivery %s failed: %s", delivery_id, reason)
    return len(done.results)


def update_each(
    db: Database, conn: Connection, update: Both, found: list[int], params: dict[str, Any]
) -> Done[int, Any]:
    """`update` (… WHERE id IN :ids … RETURNING) over `found` in one statement, one by one if
    the database refuses it; a row refused alone is passed over while the database is open."""
    done = one_by_one_if_refused(
        conn,
        lambda some: list(conn.execute(update.on(conn), {**params, "ids": json.dumps(some)})),
        found,
        db.translate,
    )
    for delivery_id, why in done.refused:
        db.refused.deliveries.add(delivery_id)
        log.error("delivery %s: the database refused the agent's write: %s", delivery_id, why)
    return done


_END_OWNERS_LEASES = text(
    f"UPDATE notification_deliveries SET lease_expires_at = :now "
    f"WHERE status = '{S.LEASED}' AND lease_owner = :owner"
)


def release_all(db: Database, owner: str, now: datetime, plan: RetryPlan) -> int:
    """Clean shutdown: every lease this owner holds ends now. One whose notifier call never
    started goes back to `queued`, no attempt counted; one whose call started may have been
    shown: like any lease that ended before its outcome was written, the attempt counts,
    is recorded, and backs off (at least once, never lost)."""
    with db.write() as conn:
        conn.execute(_END_OWNERS_LEASES, {"owner": owner, "now": timestamps.fmt(now)})
    return expire_leases(db, now, plan)


NOT_SNOOZED = f"coalesce(last_error_code, '') != '{Code.SNOOZED}'"
"""A waiting row the user did not snooze: switching off keeps what the user asked to see
again later (it shows at its time once notifications are on again)."""
_CANCEL_PENDING = Both.build(
    lambda d: (
        f"UPDATE notification_deliveries SET status = '{S.CANCELLED}', "
        f"last_error_code = '{Code.DISABLED}', last_error = 'notifications were switched off', "
        f"next_attempt_at = NULL, updated_at = :now WHERE id IN ({ids('ids', d)}) AND {WAITING} "
        f"AND {NOT_SNOOZED} RETURNING id"
    )
)
_WAITING = Both.build(
    lambda d: f"SELECT id FROM notification_deliveries WHERE {WAITING}{passed_over(d)}"
)
_RETRY_FAILED = text(
    f"UPDATE notification_deliveries SET status = '{S.QUEUED}', attempts = 0, "
    "next_attempt_at = :now, last_error_code = NULL, last_error = NULL, updated_at = :now "
    f"WHERE sink = '{DESKTOP}' AND status = '{S.FAILED}' AND destination_key = :device"
)


def cancel_pending(db: Database, now: datetime) -> int:
    """Notifications switched off: drop what is waiting (leased rows finish as they are),
    but for snoozed ones (`NOT_SNOOZED`)."""
    params = {"now": timestamps.fmt(now), **db.refused.params()}
    with db.write() as conn:
        found = list(conn.execute(_WAITING.on(conn), params).scalars())
        return len(update_each(db, conn, _CANCEL_PENDING, found, params).results)


def retry_failed(db: Database, now: datetime, device: str = "") -> int:
    """Requeue every failed desktop delivery of this device with a fresh attempt budget."""
    return _update_all(db, _RETRY_FAILED, now, device=device)


_SNOOZE = text(
    f"UPDATE notification_deliveries SET status = '{S.QUEUED}', next_attempt_at = :until, "
    f"snoozed_until = :until, last_error_code = '{Code.SNOOZED}', last_error = :why, "
    "max_attempts = attempts + :budget, updated_at = :now "
    f"WHERE notification_id = :id AND sink = '{DESKTOP}' AND destination_key = :device "
    f"AND (status = '{S.SENT}' "
    f"  OR ({WAITING} AND last_error_code = '{Code.SNOOZED}')) RETURNING id"
)
_DESKTOP_STATUS = text(
    "SELECT coalesce(d.status, CASE WHEN n.routed_at IS NULL THEN 'not routed yet' "
    "  ELSE 'archived' END) FROM notifications AS n "
    "LEFT JOIN notification_deliveries AS d "
    f"  ON d.notification_id = n.id AND d.sink = '{DESKTOP}' AND d.destination_key = :device "
    "WHERE n.id = :id"
)


def snooze(
    db: Database, notification_id: str, until: datetime, now: datetime, device: str = ""
) -> None:
    """Show a shown notification again at `until`: its desktop delivery goes back to
    `queued`, due then, and the new show is its next attempt. A delivery already waiting on
    a snooze takes the new time. Anything else (never shown, waiting, unknown) is refused
    with InvalidInput saying why, and nothing changes."""
    why = f"snoozed until {timestamps.fmt(until)[:19]} UTC"
    params = {
        "id": notification_id,
        "until": timestamps.fmt(until),
        "why": why,
        "budget": DEFAULT_MAX_ATTEMPTS,
        "now": timestamps.fmt(now),
        "device": device,
    }
    with db.write() as conn:
        if conn.execute(_SNOOZE, params).first() is not None:
            return
        found = conn.execute(_DESKTOP_STATUS, {"id": notification_id, "device": device}).scalar()
    if found is None:
        raise InvalidInput(f"no notification {notification_id!r}")
    raise InvalidInput(
        f"{notification_id} is {found}; only a notification that was shown can be snoozed"
    )


def _update_all(db: Database, statement: TextClause, now: datetime, **params: str) -> int:
    """Run one bulk UPDATE stamped with `now`; returns how many rows it changed."""
    with db.write() as conn:
        return conn.execute(statement, {"now": timestamps.fmt(now), **params}).rowcount


_NEXT_EVENT = Both.build(
    lambda d: (
        "SELECT min(t) FROM ("
        " SELECT min(next_attempt_at) AS t FROM notification_deliveries "
        f"  WHERE {WAITING} AND :waiting AND rank <= :max_rank AND destination_key = :device"
        f"  AND {is_time('next_attempt_at', d)}{passed_over(d)}"
        " UNION ALL SELECT min(lease_expires_at) FROM notification_deliveries "
        f"  WHERE status = '{S.LEASED}' AND {is_time('lease_expires_at', d)}{passed_over(d)}"
        ") AS due"
    )
)


def next_event_at(
    db: Database, *, waiting: bool = True, max_rank: int = ANY_RANK, device: str = ""
) -> datetime | None:
    """The earliest time a lease expires or a pending delivery the agent may show now
    (`waiting`: none while paused; `max_rank`: only breakthrough ones in quiet hours)
    comes due. Held ones must not count: they are due, and would wake the agent at once,
    again and again."""
    with db.read() as conn:
        params = {"waiting": waiting, "max_rank": max_rank, "device": device}
        value = conn.execute(_NEXT_EVENT.on(conn), {**params, **db.refused.params()}).scalar_one()
    try:
        return timestamps.parse(value) if value else None
    except ValueError:  # shaped like a time, but no date (month 13): the safety timer wakes
        return None
