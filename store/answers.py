"""Popups and what the user did with them: a click, an answer, a dismissal. Every statement
here is fenced so that it takes effect once, whichever agent or device runs it first.

A popup is known by the `external_id` its delivery recorded when shown: the notification
server's unique bus name and the id it gave (`:1.42/7`), so an agent started after the popup
was shown still finds it, and a restarted daemon's new popup 7 is not the old one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.dialects import Both, texts
from traycourier.store.errors import InvalidInput
from traycourier.store.model import AttemptOutcome, DeliveryStatus
from traycourier.store.rows import Answer


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
    "SELECT d.notification_id, d.destination_key, substr(n.actions_json, 1, 4096), "
    "  (SELECT a.owner FROM notification_delivery_attempts AS a WHERE a.delivery_id = d.id "
    f"   AND a.outcome IN ('{AttemptOutcome.SENT}', '{AttemptOutcome.COALESCED}') "
    "   ORDER BY a.id DESC LIMIT 1) "
    "FROM notification_deliveries AS d JOIN notifications AS n ON n.id = d.notification_id "
    f"WHERE d.external_id = :popup AND d.status = '{DeliveryStatus.SENT}' ORDER BY n.seq"
)


def popup(db: Database, external_id: str) -> Popup | None:
    with db.read() as conn:
        rows = conn.execute(_POPUP, {"popup": external_id}).all()
    if not rows:
        return None
    ids = tuple(str(row[0]) for row in rows)
    actions = rows[0][2] if len(rows) == 1 and isinstance(rows[0][2], str) else "[]"
    return Popup(ids, rows[0][3], actions, str(rows[0][1]))


_HANDLER = text(
    "SELECT owner FROM agents WHERE stopped_at IS NULL AND heartbeat_at >= :cutoff "
    "AND host = :host ORDER BY CASE WHEN owner = :shown_by THEN 0 ELSE 1 END, started_at, owner "
    "LIMIT 1"
)


def handler(
    db: Database, shown_by: str | None, host: str, now: datetime, stale_after: timedelta
) -> str | None:
    """Which agent acts on a popup's signal: every agent on the session bus receives it, and
    exactly one must open the link or write the answer. The one that showed it, while it
    lives; otherwise (killed, restarted) the longest-running live agent on this host. Each
    agent asks the same database and gets the same answer."""
    params = {"cutoff": timestamps.fmt(now - stale_after), "host": host, "shown_by": shown_by}
    with db.read() as conn:
        found = conn.execute(_HANDLER, params).scalar()
    return None if found is None else str(found)


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
    "WHERE external_id = :popup AND closed_reason IS NULL"
)


def record_closed(db: Database, external_id: str, reason: str, now: datetime) -> None:
    """The popup went away: expired, dismissed by the user, or closed by an agent."""
    with db.write() as conn:
        conn.execute(_CLOSED, {"popup": external_id, "reason": reason, "now": timestamps.fmt(now)})


_DEALT_WITH = Both.build(
    lambda d: (
        "SELECT DISTINCT d.external_id FROM notification_deliveries AS d "
        "JOIN notifications AS n ON n.id = d.notification_id "
        f"WHERE d.external_id IN ({texts('popups', d)}) "
        "AND d.closed_reason IS NULL AND (n.answer IS NOT NULL OR n.read_at IS NOT NULL)"
    )
)


def dealt_with(db: Database, external_ids: list[str]) -> list[str]:
    """Which of these popups, still open, show a notification since answered or read (on
    another device, from the menu): they can go."""
    if not external_ids:
        return []
    with db.read() as conn:
        found = conn.execute(_DEALT_WITH.on(conn), {"popups": json.dumps(external_ids)}).scalars()
        return [str(value) for value in found]
