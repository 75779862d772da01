"""Writing what became of a claimed delivery: that its notifier call started, and its outcome
(sent, retry, failed, released), each fenced by the lease (same owner, the very lease it
claimed, not expired), so a late writer whose lease was taken over changes nothing, even
when the taker is itself, claiming the row again after that lease expired.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import CLEAR_LEASE, insert_attempts
from traycourier.store.dialects import Both, ids
from traycourier.store.model import Code, DeliveryStatus, MarkReport, Outcome, OutcomeKind
from traycourier.store.refusals import one_by_one_if_refused

log = logging.getLogger(__name__)

S = DeliveryStatus


STARTED = Both.build(
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
            lambda some: [conn.execute(STARTED.on(conn), {**params, "ids": json.dumps(some)})],
            list(delivery_ids),
            db.translate,
        )
    for delivery_id, why in done.refused:  # the call goes ahead: at least once, never lost
        log.warning("delivery %s: its call could not be marked started: %s", delivery_id, why)


# Outcomes that share their values are written by one statement over a JSON list of ids;
# RETURNING tells which rows were still ours.
def _fenced(update: str) -> Both:
    return Both.build(
        lambda d: (
            f"{update} WHERE id IN ({ids('ids', d)}) AND status = '{S.LEASED}' "
            "AND lease_owner = :owner AND lease_expires_at = :expires "
            "AND lease_expires_at > :now RETURNING id"
        )
    )


def _sent(code: str) -> Both:
    return _fenced(
        f"UPDATE notification_deliveries SET status = '{S.SENT}', attempts = attempts + 1, "
        "delivered_at = :now, external_id = :external_id, next_attempt_at = NULL, "
        f"last_error_code = {code}, last_error = NULL, {CLEAR_LEASE}"
    )


_MARK = {
    OutcomeKind.SENT: _sent(":code"),  # NULL, or how it was shown (`Code.ACTION_CENTER`)
    OutcomeKind.COALESCED: _sent(f"'{Code.COALESCED}'"),  # in its source's storm summary
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
    Group = tuple[OutcomeKind, str | None, str | None, str | None, str | None, str]
    groups: dict[Group, list[Outcome]] = {}
    for out in outcomes:
        key = (out.kind, out.external_id, out.next_attempt_at, out.error_code, out.error,
               out.claimed.lease_expires_at)  # fmt: skip
        groups.setdefault(key, []).append(out)
    applied: list[Outcome] = []
    fenced: list[int] = []
    with db.write() as conn:
        for (kind, external_id, next_at, code, error, expires), members in groups.items():
            params = {
                "owner": owner,
                "expires": expires,
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
