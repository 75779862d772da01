"""The PostgreSQL side of the shared database: a `postgresql://` URL turned into an engine
(psycopg 3, so libpq's environment and password file apply), the URL as it may be shown
(never with its password), the schema version's own table, and driver errors as one line.

Every other statement is in the modules that own it, in both dialects where they differ.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, create_engine, text

from traycourier.store.errors import DatabaseUnavailable, InvalidInput, StoreError

log = logging.getLogger(__name__)

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
CONNECT_TIMEOUT_S = 10
MIGRATION_LOCK = 0x7472_6179  # pg_advisory_xact_lock key: one migrating agent at a time


def is_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(SCHEMES)


def shown(url: str) -> str:
    """The URL without its password (and without a query, where `password=` may hide):
    what logs, `status`, `doctor` and the tray may print."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://?"
    host = parts.hostname or ""
    try:
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        host += ":?"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(("postgresql", f"{user}{host}", parts.path, "", ""))


def has_password(url: str) -> bool:
    """Whether the URL itself carries a password (in its user part or its query)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.password) or "password=" in parts.query


def check_url(url: str) -> None:
    """InvalidInput for a URL libpq could never use, said without its password."""
    try:
        parts = urlsplit(url)
    except ValueError as err:  # "Invalid IPv6 URL": an unclosed [
        raise InvalidInput(f"the database URL cannot be read: {err}") from None
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidInput(f"{shown(url)}: the port is not a number") from None
    if not parts.hostname and "host=" not in parts.query:
        raise InvalidInput(f"{shown(url)} has no host (postgresql://USER@HOST/DATABASE)")


def engine_for(url: str) -> Engine:
    """An engine for `url`; connections are checked before use, so a server that went
    away and came back costs one failed check, not a failed transaction. A URL that could
    never work is said first, whether or not psycopg is installed."""
    check_url(url)
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


# A plain query of the catalog, not to_regclass(): its cached lookup can miss a table that an
# agent which held the migration lock just committed.
_HAS_VERSION = text(
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS s "
    "ON s.oid = c.relnamespace WHERE c.relname = 'traycourier_schema' "
    "AND s.nspname = current_schema())"
)
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
    if "FATAL:" in first:  # libpq's "connection to server at …, port … failed: FATAL: why"
        first = first.rsplit("FATAL:", 1)[1].strip()
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate.startswith("28") or "authentication failed" in first:
        return DatabaseUnavailable(f"{where} refused the login: {first}")
    unreachable = sqlstate.startswith(("08", "57P")) or (
        not sqlstate and ("connection" in first.lower() or "server" in first.lower())
    )
    if unreachable:
        return DatabaseUnavailable(f"cannot reach {where}: {first}")
    return StoreError(f"database error on {where}: {first}")


CHANNEL = "traycourier"
"""What the migrations' triggers NOTIFY on every change an agent acts on."""


class Listener:
    """One connection of its own that LISTENs on `CHANNEL` (autocommit: a notification
    arrives only outside a transaction). `wait` returns whether one came."""

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._conn = psycopg.connect(
                urlunsplit(("postgresql", *urlsplit(url)[1:])),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="traycourier-listen",
            )
            self._conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as err:
            raise translate(err, shown(url)) from err

    def wait(self, timeout_s: float) -> bool:
        """True when a notification came within `timeout_s`; raises DatabaseUnavailable
        when the connection is lost (the server stopped or restarted)."""
        import psycopg

        try:
            for _note in self._conn.notifies(timeout=timeout_s, stop_after=1):
                return True
        except psycopg.Error as err:
            raise translate(err, "the PostgreSQL server") from err
        if self._conn.closed:
            raise DatabaseUnavailable("the PostgreSQL server closed the connection")
        return False

    def close(self) -> None:
        self._conn.close()


_TRIGGERS = text("SELECT count(*) FROM pg_trigger WHERE tgname = 'traycourier_wake'")
WAKE_TABLES = 4


def check_channel(engine: Engine, url: str, timeout_s: float = 5.0) -> str | None:
    """What `doctor` asks of a server: the wake-up triggers are there, and a NOTIFY reaches
    a LISTENing connection. None when both hold, else what is wrong (one line)."""
    with engine.connect() as conn:
        found = conn.execute(_TRIGGERS).scalar_one()
    if found < WAKE_TABLES:
        return f"{found} of {WAKE_TABLES} wake-up triggers found; agents fall back to a timer"
    try:
        listener = Listener(url)
    except StoreError as err:
        return f"cannot LISTEN: {err}"
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:channel, 'doctor')"), {"channel": CHANNEL})
        if not listener.wait(timeout_s):
            return f"a NOTIFY on {CHANNEL} did not arrive within {timeout_s:g} s"
    except StoreError as err:
        return str(err)
    finally:
        listener.close()
    return None
