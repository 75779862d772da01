"""The `agents` table: who is running, so `status` and other agents can see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database

_REGISTER = text(
    "INSERT INTO agents (owner, pid, host, version, mode, notifier, started_at, heartbeat_at) "
    "VALUES (:owner, :pid, :host, :version, :mode, :notifier, :now, :now) "
    "ON CONFLICT (owner) DO UPDATE SET pid = excluded.pid, host = excluded.host, "
    "version = excluded.version, mode = excluded.mode, notifier = excluded.notifier, "
    "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL"
)
_HEARTBEAT = text(
    "UPDATE agents SET heartbeat_at = :now, notifier = :notifier WHERE owner = :owner"
)
_STOPPED = text("UPDATE agents SET stopped_at = :now, heartbeat_at = :now WHERE owner = :owner")


def register(
    db: Database,
    *,
    owner: str,
    pid: int,
    host: str,
    version: str,
    mode: str,
    notifier: str,
    now: datetime,
) -> None:
    with db.write() as conn:
        conn.execute(
            _REGISTER,
            {
                "owner": owner,
                "pid": pid,
                "host": host,
                "version": version,
                "mode": mode,
                "notifier": notifier,
                "now": timestamps.fmt(now),
            },
        )


def heartbeat(db: Database, owner: str, notifier: str, now: datetime) -> None:
    with db.write() as conn:
        conn.execute(_HEARTBEAT, {"owner": owner, "notifier": notifier, "now": timestamps.fmt(now)})


def stopped(db: Database, owner: str, now: datetime) -> None:
    with db.write() as conn:
        conn.execute(_STOPPED, {"owner": owner, "now": timestamps.fmt(now)})
