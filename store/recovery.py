"""What an agent retries by itself: deliveries that failed only because the notification
daemon could not be reached, once it is back (its bus name has an owner again). The user
never had a chance to see them, and a daemon restart (an update, a crash, a login while the
agent started first) should not need a click on Retry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database
from traycourier.store.model import DESKTOP, DeliveryStatus

UNREACHABLE = "daemon_unreachable"

_RETRY = (
    f"UPDATE notification_deliveries SET status = '{DeliveryStatus.QUEUED}', "
    "max_attempts = attempts + 1, next_attempt_at = :now, updated_at = :now "
    f"WHERE sink = '{DESKTOP}' AND status = '{DeliveryStatus.FAILED}' "
    f"AND last_error_code = '{UNREACHABLE}' AND destination_key = :device "
    "AND notification_id IN (SELECT id FROM notifications WHERE archived_at IS NULL "
    "  AND read_at IS NULL"
)
_RETRY_ANY_AGE = text(_RETRY + ")")
_RETRY_FRESH = text(_RETRY + " AND created_at >= :since)")


def retry_unreachable(
    db: Database, now: datetime, fresh_since: datetime | None, device: str = ""
) -> int:
    """failed (daemon unreachable) -> queued, for one more attempt, if still unread and
    created since `fresh_since` (None: any age). How many."""
    params = {"now": timestamps.fmt(now), "device": device}
    statement = _RETRY_ANY_AGE
    if fresh_since is not None:
        statement, params["since"] = _RETRY_FRESH, timestamps.fmt(fresh_since)
    with db.write() as conn:
        return conn.execute(statement, params).rowcount or 0
