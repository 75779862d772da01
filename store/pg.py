"""The PostgreSQL side of the shared database: a `postgresql://` URL turned into an engine
(psycopg 3, so libpq's environment and password file apply), the URL as it may be shown
(never with its password), the schema version's own table, and driver errors as one line.

Every other statement is in the modules that own it, in both dialects where they differ.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, create_engine, text

from traycourier.store.errors import DatabaseUnavailable, StoreError

log = logging.getLogger(__name__)

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
CONNECT_TIMEOUT_S = 10
MIGRATION_LOCK = 0x7472_6179  # pg_advisory_xact_lock key: one migrating agent at a time


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(SCHEMES)


def shown(url: str) -> str:
    """The URL without its password (and without a query, where `password=` may hide):
    what logs, `status`, `doctor` and the tray may print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    scheme = "postgresql"
    return urlunsplit((scheme, f"{user}{host}", parts.path, "", ""))


def engine_for(url: str) -> Engine:
    """An engine for `url`; connections are checked before use, so a server that went
    away and came back costs one failed check, not a failed transaction."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DatabaseUnavailable(
            "PostgreSQL needs psycopg: pip install 'traycourier[postgresql]'"
        ) from None
    parts = urlsplit(url)
    driver_url = urlunsplit(("postgresql+psycopg", *parts[1:]))
    return create_engine(
        driver_url,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=8,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "traycourier"},
    )


_HAS_VERSION = text("SELECT to_regclass('traycourier_schema') IS NOT NULL")
_VERSION = text("SELECT max(version) FROM traycourier_schema")
_OUR_TABLES = text(
    "SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_name IN "
    "('notifications', 'notification_deliveries', 'settings', 'agents')"
)


def schema_version(conn: Connection) -> int | None:
    """The version in `traycourier_schema`; None when there is no such table (a new
    database, or another program's)."""
    if not conn.execute(_HAS_VERSION).scalar_one():
        return None
    value = conn.execute(_VERSION).scalar_one()
    return None if value is None else int(value)


def foreign_tables(conn: Connection) -> str | None:
    """Tables named like ours in a database without our version table: another program's."""
    found = conn.execute(_OUR_TABLES).scalar_one()
    return found or None


def migrate(conn: Connection, steps: tuple[tuple[str, ...], ...], latest: int) -> int:
    """Run the missing steps and record the version, under a transaction-level advisory
    lock so agents starting together migrate once. Returns the version found."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    found = schema_version(conn)
    if found is None:
        conn.exec_driver_sql("CREATE TABLE traycourier_schema (version INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO traycourier_schema (version) VALUES (0)")
        found = 0
    if found < latest:
        for step in steps[found:]:
            for statement in step:
                conn.exec_driver_sql(statement)
        conn.execute(text("UPDATE traycourier_schema SET version = :v"), {"v": latest})
    return found


def translate(err: BaseException, where: str) -> StoreError:
    """A psycopg error as one line, naming the server as `shown` prints it."""
    if isinstance(err, StoreError):
        return err
    orig = getattr(err, "orig", err)
    first = (str(orig) or type(orig).__name__).strip().splitlines()[0]
    sqlstate = getattr(orig, "sqlstate", None) or ""
    unreachable = sqlstate.startswith(("08", "57P")) or (
        not sqlstate and ("connection" in first.lower() or "server" in first.lower())
    )
    if unreachable:
        return DatabaseUnavailable(f"cannot reach {where}: {first}")
    if sqlstate.startswith("28"):
        return DatabaseUnavailable(f"{where} refused the login: {first}")
    return StoreError(f"database error on {where}: {first}")
