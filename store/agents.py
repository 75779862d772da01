"""The `agents` table: who is running, so `status` and other agents can see it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from traycourier.store import timestamps
from traycourier.store.db import Database

_REGISTER = text(
    "INSERT INTO agents (owner, pid, host, version, mode, notifier, notifier_problem, "
    "started_at, heartbeat_at) "
    "VALUES (:owner, :pid, :host, :version, :mode, :notifier, :problem, :now, :now) "
    "ON CONFLICT (owner) DO UPDATE SET pid = excluded.pid, host = excluded.host, "
    "version = excluded.version, mode = excluded.mode, notifier = excluded.notifier, "
    "notifier_problem = excluded.notifier_problem, started_at = excluded.started_at, "
    "heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, history_wanted_at = NULL, "
    "history_address = NULL"
)
_HEARTBEAT = text(
    "UPDATE agents SET heartbeat_at = :now, notifier = :notifier, notifier_problem = :problem "
    "WHERE owner = :owner"
)
_STOPPED = text(
    "UPDATE agents SET stopped_at = :now, heartbeat_at = :now, history_address = NULL "
    "WHERE owner = :owner"
)
_WANT_HISTORY = text("UPDATE agents SET history_wanted_at = :now WHERE owner = :owner")
_HISTORY_AT = text(
    "UPDATE agents SET history_wanted_at = NULL, history_address = :address WHERE owner = :owner"
)


def register(
    db: Database,
    *,
    owner: str,
    pid: int,
    host: str,
    version: str,
    mode: str,
    notifier: str,
    notifier_problem: str | None,
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
                "problem": notifier_problem,
                "now": timestamps.fmt(now),
            },
        )


def heartbeat(
    db: Database, owner: str, notifier: str, notifier_problem: str | None, now: datetime
) -> None:
    with db.write() as conn:
        conn.execute(
            _HEARTBEAT,
            {
                "owner": owner,
                "notifier": notifier,
                "problem": notifier_problem,
                "now": timestamps.fmt(now),
            },
        )


def stopped(db: Database, owner: str, now: datetime) -> None:
    with db.write() as conn:
        conn.execute(_STOPPED, {"owner": owner, "now": timestamps.fmt(now)})


_RECORD_ERROR = text(
    "UPDATE agents SET last_error = :error, last_error_at = :now WHERE owner = :owner"
)


def record_error(db: Database, owner: str, error: str, now: datetime) -> None:
    """The agent's last internal error (cut to 500 characters), for `status` and `doctor`."""
    with db.write() as conn:
        conn.execute(
            _RECORD_ERROR, {"owner": owner, "error": error[:500], "now": timestamps.fmt(now)}
        )


_LAST_ERROR = text(
    "SELECT owner, last_error, last_error_at FROM agents WHERE last_error IS NOT NULL "
    "ORDER BY last_error_at DESC LIMIT 1"
)


def last_error(db: Database) -> tuple[str, str, str] | None:
    """(owner, error, when) of the most recent internal error any agent recorded."""
    with db.read() as conn:
        row = conn.execute(_LAST_ERROR).first()
    return None if row is None else (row[0], row[1], row[2])


def want_history(db: Database, owner: str, now: datetime) -> None:
    """Ask a running agent to serve its history window (`traycourier history --url`): the
    commit wakes it, and its next tick sees the request (`store.glance`)."""
    with db.write() as conn:
        conn.execute(_WANT_HISTORY, {"owner": owner, "now": timestamps.fmt(now)})


def history_at(db: Database, owner: str, address: str | None) -> None:
    """Where this agent's history window listens now (None: it stopped); the request, if
    any, is answered."""
    with db.write() as conn:
        conn.execute(_HISTORY_AT, {"owner": owner, "address": address})
