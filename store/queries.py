"""What the CLI and the tray read (counts, listings, recent notifications), and the one
write the tray makes to notifications: marking them read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, Text, case, func, literal, select, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from traycourier.store import schema, timestamps
from traycourier.store.db import Database
from traycourier.store.deliveries import WAITING
from traycourier.store.model import (
    DELIVERY_STATUSES,
    DeliveryStatus,
)
from traycourier.store.rows import AgentRow, DeliveryRow, Status, TraySummary

S = DeliveryStatus


class as_text(FunctionElement[str]):
    """A producer-written column as at most `limit` characters of text, whatever it holds:
    text is cut, a BLOB becomes `x'…'` (its first bytes in hex), a number its digits, NULL
    stays NULL. What the CLI and tray read can then always be printed, JSON-encoded and drawn.
    (A PostgreSQL column holds only its own type: there it is cut, or cast.)"""

    type = Text()
    inherit_cache = True

    def __init__(self, column: Any, limit: int = 200) -> None:
        super().__init__(column, literal(limit))


@compiles(as_text, "sqlite")
def _as_text_sqlite(element: as_text, compiler: Any, **kw: Any) -> str:
    column, limit = element.clauses
    return compiler.process(
        case(
            (func.typeof(column) == "text", func.substr(column, 1, limit)),
            (
                func.typeof(column) == "blob",
                "x'" + func.lower(func.hex(func.substr(column, 1, 16))) + "'",
            ),
            else_=func.cast(column, Text),
        ),
        **kw,
    )


@compiles(as_text, "postgresql")
def _as_text_postgresql(element: as_text, compiler: Any, **kw: Any) -> str:
    column, limit = element.clauses
    return compiler.process(func.substr(func.cast(column, Text), 1, limit), **kw)


class as_count(FunctionElement[int]):
    """A count the agent writes, or NULL when another program put something else there (an
    integer column on PostgreSQL holds only integers)."""

    type = Integer()
    inherit_cache = True


@compiles(as_count, "sqlite")
def _as_count_sqlite(element: as_count, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(case((func.typeof(column) == "integer", column)), **kw)


@compiles(as_count, "postgresql")
def _as_count_postgresql(element: as_count, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


def _delivery_query() -> Select[Any]:
    """Every column as something printable and JSON-encodable: the agent's own columns too,
    which another program may have overwritten with anything."""
    d, n = schema.deliveries, schema.notifications
    return select(
        d.c.id,
        as_text(d.c.notification_id),
        as_text(n.c.title),
        as_text(n.c.priority, 20),
        as_text(d.c.status, 20),
        as_count(d.c.attempts),
        as_count(d.c.max_attempts),
        as_text(d.c.next_attempt_at, 40),
        as_text(d.c.lease_owner),
        as_text(d.c.last_error_code, 40),
        as_text(d.c.last_error, 1000),
        as_text(d.c.created_at, 40),
        as_text(d.c.updated_at, 40),
        as_text(d.c.delivered_at, 40),
        as_text(d.c.destination_key),
        as_text(d.c.closed_reason, 20),
        as_text(n.c.source),
        as_text(d.c.snoozed_until, 40),
    ).join(n, n.c.id == d.c.notification_id)


def text_or_none(value: object) -> str | None:
    """A time read straight from an index (`max(delivered_at)`): text, or nothing usable."""
    return value if isinstance(value, str) else None


def list_deliveries(
    db: Database,
    status: str | None = None,
    limit: int = 50,
    *,
    source: str | None = None,
    notification_id: str | None = None,
) -> list[DeliveryRow]:
    """Newest first; only `status`, `source` or one notification's when given."""
    d, n = schema.deliveries, schema.notifications
    query = _delivery_query().order_by(d.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(d.c.status == status)
    if source is not None:
        query = query.where(n.c.source == source)
    if notification_id is not None:
        query = query.where(d.c.notification_id == notification_id)
    with db.read() as conn:
        return [DeliveryRow(*row) for row in conn.execute(query)]


def live_agents(db: Database, now: datetime, stale_after: timedelta) -> list[AgentRow]:
    """Agents not stopped whose last heartbeat is more recent than `stale_after`."""
    a = schema.agents
    cutoff = timestamps.fmt(now - stale_after)
    query = (
        select(
            a.c.owner,
            a.c.pid,
            a.c.host,
            a.c.version,
            a.c.mode,
            a.c.notifier,
            a.c.started_at,
            a.c.heartbeat_at,
            a.c.last_error,
            a.c.last_error_at,
            a.c.notifier_problem,
            as_text(a.c.history_address, 100),
        )
        .where(a.c.stopped_at.is_(None), a.c.heartbeat_at >= cutoff)
        .order_by(a.c.started_at)
    )
    with db.read() as conn:
        return [AgentRow(*row) for row in conn.execute(query)]


def status(
    db: Database, now: datetime, stale_after: timedelta, errors: int = 5, device: str | None = None
) -> Status:
    """The full report; `device`: only that device's deliveries (None: every device's)."""
    d, n = schema.deliveries, schema.notifications
    mine = true() if device is None else d.c.destination_key == device
    with db.read() as conn:
        counts: dict[str, int] = dict(
            conn.execute(select(d.c.status, func.count()).where(mine).group_by(d.c.status)).all()
        )
        unrouted = conn.execute(
            select(func.count()).select_from(n).where(n.c.routed_at.is_(None))
        ).scalar_one()
        last_errors = [
            DeliveryRow(*row)
            for row in conn.execute(
                _delivery_query()
                .where(mine)
                .where(d.c.last_error_code.is_not(None))
                .where(d.c.status.in_([S.FAILED, S.RETRY_WAIT]))
                .order_by(d.c.updated_at.desc())
                .limit(errors)
            )
        ]
        last_delivered = conn.execute(select(func.max(d.c.delivered_at)).where(mine)).scalar_one()
        skips = conn.execute(
            select(func.coalesce(d.c.last_error_code, ""), func.count())
            .where(mine)
            .where(d.c.status.in_([S.SKIPPED, S.CANCELLED]))
            .group_by(d.c.last_error_code)
        ).all()
    return Status(
        counts={s: int(counts.get(s, 0)) for s in DELIVERY_STATUSES},
        unrouted=int(unrouted),
        live_agents=tuple(live_agents(db, now, stale_after)),
        last_errors=tuple(last_errors),
        last_delivered_at=text_or_none(last_delivered),
        skip_reasons={str(code): int(count) for code, count in skips},
    )


# Each count walks a partial index (pending, leased, failed) and the maximum reads one end of
# the delivered_at index: the cost follows the rows that matter, not the history.
_MINE = "destination_key = :device"
_TRAY_SUMMARY = text(
    "SELECT "
    f"(SELECT count(*) FROM notification_deliveries WHERE {WAITING} AND {_MINE}) "
    "+ (SELECT count(*) FROM notification_deliveries "
    f"   WHERE status = '{S.LEASED}' AND {_MINE}), "
    f"(SELECT count(*) FROM notification_deliveries WHERE status = '{S.FAILED}' AND {_MINE}), "
    "(SELECT max(delivered_at) FROM notification_deliveries "
    f"  WHERE delivered_at IS NOT NULL AND {_MINE})"
)


def tray_summary(db: Database, device: str = "") -> TraySummary:
    """What the tray shows after every tick, for this device; `status` is the full
    (history-sized) report."""
    with db.read() as conn:
        pending, failed, last = conn.execute(_TRAY_SUMMARY, {"device": device}).one()
    return TraySummary(int(pending), int(failed), text_or_none(last))


IMPORTANT_AMONG = 500
"""How far back (in notifications) Recent looks for urgent unread and failed ones that a
storm pushed out of its newest entries: bounded, so the cost does not grow with history."""


_MARK_ALL_READ = text("UPDATE notifications SET read_at = :now WHERE read_at IS NULL")


_MARK_READ = text("UPDATE notifications SET read_at = :now WHERE id = :id AND read_at IS NULL")


def mark_read(db: Database, notification_id: str, now: datetime) -> None:
    with db.write() as conn:
        conn.execute(_MARK_READ, {"now": timestamps.fmt(now), "id": notification_id})


def mark_all_read(db: Database, now: datetime) -> int:
    with db.write() as conn:
        return conn.execute(_MARK_ALL_READ, {"now": timestamps.fmt(now)}).rowcount


OUR_TABLES = (
    "notifications",
    "notification_deliveries",
    "notification_delivery_attempts",
    "settings",
    "agents",
    "mutes",
    "devices",
)
_TRIGGERS_SQLITE = text(
    "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY tbl_name, name"
)
_TRIGGERS_POSTGRESQL = text(
    "SELECT t.tgname, c.relname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
    "JOIN pg_namespace AS s ON s.oid = c.relnamespace WHERE NOT t.tgisinternal "
    "AND s.nspname = current_schema() AND t.tgname NOT LIKE 'traycourier%' "
    "ORDER BY c.relname, t.tgname"
)


def foreign_triggers(db: Database) -> list[tuple[str, str]]:
    """(trigger, table) of every trigger another program put on our tables: each may refuse
    a write of the agent's (`store.refusals`), so `doctor` names them."""
    with db.read() as conn:
        sql = _TRIGGERS_POSTGRESQL if db.url else _TRIGGERS_SQLITE
        return [(str(name), str(table)) for name, table in conn.execute(sql) if table in OUR_TABLES]
