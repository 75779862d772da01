"""Popups and what the user did with them: a click, an answer, a dismissal. Every statement
here is fenced so that it takes effect once, whichever agent or device runs it first.

A popup is known by the `external_id` its delivery recorded when shown: the notification
server's unique bus name and the id it gave (`:1.42/7`), so an agent started after the popup
was shown still finds it, and a restarted daemon's new popup 7 is not the old one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from traycourier.store import pg, timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import MAX_ACTIONS_READ
from traycourier.store.dialects import Both, texts
from traycourier.store.errors import InvalidInput
from traycourier.store.model import AttemptOutcome, DeliveryStatus
from traycourier.store.rows import Answer
from traycourier.store.sqlitefile import DataVersionProbe


@dataclass(frozen=True)
class Popup:
    """What a popup on screen stands for: one notification, or (a burst's summary) several."""

    notification_ids: tuple[str, ...]
    shown_by: str | None
    """The agent that showed it (the owner of its `sent` attempt)."""
    actions_json: str
    device: str

    @property
    def summary(self) -> bool:
        return len(self.notification_ids) > 1


_POPUP = text(
    f"SELECT d.notification_id, d.destination_key, substr(n.actions_json, 1, {MAX_ACTIONS_READ}), "
    "  (SELECT a.owner FROM notification_delivery_attempts AS a WHERE a.delivery_id = d.id "
    f"   AND a.outcome IN ('{AttemptOutcome.SENT}', '{AttemptOutcome.COALESCED}') "
    "   ORDER BY a.id DESC LIMIT 1) "
    "FROM notification_deliveries AS d JOIN notifications AS n ON n.id = d.notification_id "
    f"WHERE d.external_id = :popup AND d.status = '{DeliveryStatus.SENT}' "
    "AND d.destination_key = :device ORDER BY n.seq"
)


def popup(db: Database, external_id: str, device: str) -> Popup | None:
    """The popup `external_id` shown on `device` (two machines' servers may both call
    theirs `:1.3/1`)."""
    with db.read() as conn:
        rows = conn.execute(_POPUP, {"popup": external_id, "device": device}).all()
    if not rows:
        return None
    ids = tuple(str(row[0]) for row in rows)
    actions = rows[0][2] if len(rows) == 1 and isinstance(rows[0][2], str) else "[]"
    return Popup(ids, rows[0][3], actions, str(rows[0][1]))


_CANDIDATES = text(
    "SELECT owner, pid FROM agents WHERE stopped_at IS NULL AND heartbeat_at >= :cutoff "
    "AND host = :host ORDER BY CASE WHEN owner = :shown_by THEN 0 ELSE 1 END, started_at, owner"
)


def candidates(
    db: Database, shown_by: str | None, host: str, now: datetime, stale_after: timedelta
) -> list[tuple[str, int]]:
    """(owner, pid) of the agents on this host that may act on a popup's signal, in order:
    the one that showed it first, then the longest-running (`agent.engine.popups` picks the first
    still running)."""
    params = {"cutoff": timestamps.fmt(now - stale_after), "host": host, "shown_by": shown_by}
    with db.read() as conn:
        return [(str(owner), int(pid)) for owner, pid in conn.execute(_CANDIDATES, params)]


_ANSWER = text(
    "UPDATE notifications SET answer = :answer, answered_at = :now, answered_device = :device, "
    "read_at = coalesce(read_at, :now) WHERE id = :id AND answer IS NULL RETURNING id"
)
_ANSWER_OF = text(
    "SELECT n.answer, n.answered_at, n.answered_device, "
    "  EXISTS (SELECT 1 FROM notification_deliveries AS d WHERE d.notification_id = n.id "
    "    AND d.closed_reason = 'dismissed') "
    "FROM notifications AS n WHERE n.id = :id"
)


def answer(db: Database, notification_id: str, choice: str, device: str, now: datetime) -> Answer:
    """Write the user's answer unless one was written already (the first wins, on any
    device); returns what stands, with `won` saying whether it is this one."""
    params = {"id": notification_id, "answer": choice, "device": device, "now": timestamps.fmt(now)}
    with db.write() as conn:
        won = conn.execute(_ANSWER, params).first() is not None
        row = conn.execute(_ANSWER_OF, {"id": notification_id}).first()
    if row is None:
        raise InvalidInput(f"no notification {notification_id!r}")
    return Answer(row[0], row[1], row[2], bool(row[3]), won=won)


def answer_of(db: Database, notification_id: str) -> Answer | None:
    """The answer as it stands (None: no such notification)."""
    with db.read() as conn:
        row = conn.execute(_ANSWER_OF, {"id": notification_id}).first()
    return None if row is None else Answer(row[0], row[1], row[2], bool(row[3]))


_MARK_READ = Both.build(
    lambda d: (
        "UPDATE notifications SET read_at = :now "
        f"WHERE id IN ({texts('ids', d)}) AND read_at IS NULL"
    )
)


def mark_read(db: Database, notification_ids: tuple[str, ...], now: datetime) -> None:
    with db.write() as conn:
        params = {"ids": json.dumps(notification_ids), "now": timestamps.fmt(now)}
        conn.execute(_MARK_READ.on(conn), params)


_CLOSED = text(
    "UPDATE notification_deliveries SET closed_reason = :reason, closed_at = :now "
    "WHERE external_id = :popup AND destination_key = :device AND closed_reason IS NULL"
)


def record_closed(db: Database, external_id: str, device: str, reason: str, now: datetime) -> None:
    """The popup went away: clicked, expired, dismissed by the user, or closed by an agent."""
    params = {"popup": external_id, "device": device, "reason": reason, "now": timestamps.fmt(now)}
    with db.write() as conn:
        conn.execute(_CLOSED, params)


_DEALT_WITH = Both.build(
    lambda d: (
        "SELECT DISTINCT d.external_id FROM notification_deliveries AS d "
        "JOIN notifications AS n ON n.id = d.notification_id "
        f"WHERE d.external_id IN ({texts('popups', d)}) AND d.destination_key = :device "
        "AND d.closed_reason IS NULL AND (n.answer IS NOT NULL OR n.read_at IS NOT NULL)"
    )
)


def dealt_with(db: Database, external_ids: list[str], device: str) -> list[str]:
    """Which of these popups of `device`, still open, show a notification since answered or
    read (on another device, from the menu): they can go."""
    if not external_ids:
        return []
    params = {"popups": json.dumps(external_ids), "device": device}
    with db.read() as conn:
        found = conn.execute(_DEALT_WITH.on(conn), params).scalars()
        return [str(value) for value in found]


def wait_for_answer(
    db: Database, notification_id: str, timeout_s: float | None = None
) -> Answer | None:
    """Block until the notification is answered, or a popup of it is dismissed without an
    answer (the returned `Answer` says which); None when `timeout_s` passes first. Raises
    InvalidInput for an unknown id. Woken by the database's own change signal (a file's
    `data_version`, a server's NOTIFY), with a look every few seconds besides."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    changes = _Changes(db)
    try:
        while True:
            state = answer_of(db, notification_id)
            if state is None:
                raise InvalidInput(f"no notification {notification_id!r}")
            if state.answer is not None or state.dismissed:
                return state
            left = LOOK_S if deadline is None else min(LOOK_S, deadline - time.monotonic())
            if left <= 0:
                return None
            changes.wait(left)
    finally:
        changes.close()


LOOK_S = 5.0


class _Changes:
    """Waits for another connection's commit: LISTEN on a server; on a file, `data_version`
    read every 50 ms (a counter in shared memory, no I/O)."""

    def __init__(self, db: Database) -> None:
        self._listener = pg.Listener(db.url) if db.url else None
        self._probe = DataVersionProbe(db.path) if db.path else None
        self._seen = self._probe.value() if self._probe else 0

    def wait(self, timeout_s: float) -> None:
        if self._listener is not None:
            self._listener.wait(timeout_s)
            return
        assert self._probe is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = self._probe.value()
            if value != self._seen:
                self._seen = value
                return
            time.sleep(0.05)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._probe is not None:
            self._probe.close()
