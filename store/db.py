"""Opening the shared database, a SQLite file or a PostgreSQL server: the schema version
gate, and transactions. What differs by backend is in `store.sqlitefile` and `store.pg`;
everything above this module sees one `Database`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from traycourier.store import pg, sqlitefile
from traycourier.store.errors import CorruptDatabase, SchemaTooNew, StoreError
from traycourier.store.migrations import LATEST_VERSION, MIGRATIONS
from traycourier.store.migrations_pg import PG_MIGRATIONS
from traycourier.store.refusals import Refused
from traycourier.store.sqlitefile import BUSY_TIMEOUT_S, FileSet

log = logging.getLogger(__name__)

QUICK_CHECK_S = 5.0
"""How long `quick_check` may read before it stops and says it did not finish."""

Dialect = Literal["sqlite", "postgresql"]


class Database:
    """One shared database. Thread-safe: each transaction takes its own connection.

    `path` is the SQLite file (None on PostgreSQL); `location` is what may be shown of
    either (a PostgreSQL URL without its password)."""

    def __init__(self, target: Path | str, engine: Engine) -> None:
        self.engine = engine
        self.dialect: Dialect
        self.path: Path | None
        self.url: str | None
        if isinstance(target, Path):
            self.dialect, self.path, self.url = "sqlite", target, None
            self.location = str(target)
        else:
            self.dialect, self.path, self.url = "postgresql", None, target
            self.location = pg.shown(target)
        self._files = FileSet(target) if isinstance(target, Path) else None
        self.refused = Refused()
        """Rows this database would not let this process write (`store.refusals`)."""

    @classmethod
    def open(cls, target: str | os.PathLike[str], *, migrate: bool = True) -> Database:
        """Open (creating if missing) and bring the schema to this version. `target` is a
        file path or a `postgresql://` URL.

        Raises CorruptDatabase or SchemaTooNew without writing a byte to the file.
        """
        if pg.is_url(target):
            url = str(target)
            db = cls(url, pg.engine_for(url))
        else:
            db_path = Path(target).expanduser().absolute()
            db = cls(db_path, sqlitefile.prepare(db_path))
        try:
            db._gate_version(migrate)
        except BaseException:
            db.engine.dispose()
            raise
        return db

    def replaced(self) -> bool:
        """Whether the file at `path` or its -wal is no longer the one this object opened
        (deleted, moved away, or replaced by another file). A server is never replaced."""
        return self._files is not None and self._files.changed()

    def reopen(self) -> None:
        """Open the file at `path` again (creating and migrating it if it is gone). When only
        its -wal was deleted, first, through a connection opened before, whatever sits only
        in that -wal is written into the file and the wal-index reset: otherwise it is lost,
        and every new connection meets "disk I/O error" until the last old one closes."""
        # Only into the same file: had the file itself been replaced, a new producer's
        # commits could already sit in that -wal, and would go into the old file.
        if self._files is not None and self._files.same_database():
            try:  # outside any transaction: a checkpoint cannot run inside one
                pooled = self.engine.raw_connection()
                try:
                    pooled.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    pooled.close()
            except (sa_exc.DBAPIError, sqlite3.Error) as err:
                log.warning("could not write the old -wal back into %s: %s", self.path, err)
        self.engine.dispose()
        self.refused = Refused()  # another file: its rows are other rows
        if self.path is not None:
            self.engine = sqlitefile.prepare(self.path)
            self._files = FileSet(self.path)
        self._gate_version(migrate=True)

    def quick_check(self, limit_s: float = QUICK_CHECK_S) -> str:
        """SQLite's `PRAGMA quick_check`, stopped after `limit_s`: "ok", the first problems
        it found, or that it did not finish in time (a very large file). A PostgreSQL
        server keeps its own integrity: "ok" once it answers."""
        if self.path is None:
            with self.read() as conn:
                conn.exec_driver_sql("SELECT 1")
            return "ok"
        raw = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        deadline = time.monotonic() + limit_s
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            rows = raw.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.OperationalError as err:
            if "interrupt" in str(err).lower():
                return f"not finished within {limit_s:g} s"
            raise self.translate(err) from err
        except sqlite3.DatabaseError as err:
            raise self.translate(err) from err
        finally:
            raw.close()
        return "; ".join(str(row[0]) for row in rows)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def translate(self, err: BaseException) -> StoreError:
        """A driver error as one line a user can act on (`store.errors`)."""
        if self.path is None:
            return pg.translate(err, self.location)
        return sqlitefile.translate(err, self.path)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success, rolls back
        on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (sa_exc.DBAPIError, sqlite3.Error) as err:
            raise self.translate(err) from err

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot, takes no write lock."""
        try:
            with (
                self.engine.connect().execution_options(traycourier_read=True) as conn,
                conn.begin(),
            ):
                yield conn
        except (sa_exc.DBAPIError, sqlite3.Error) as err:
            raise self.translate(err) from err

    def server_time(self) -> datetime | None:
        """The server's clock (PostgreSQL); None for a file, whose only clock is this
        machine's. On a server every agent reads times the others wrote."""
        if self.path is not None:
            return None
        with self.read() as conn:
            value = conn.exec_driver_sql("SELECT now()").scalar_one()
        return value.astimezone(UTC)

    def schema_version(self) -> int:
        with self.read() as conn:
            if self.path is None:
                return pg.schema_version(conn) or 0
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def _gate_version(self, migrate: bool) -> None:
        if self.path is None:
            with self.read() as conn:
                if pg.schema_version(conn) is None and (foreign := pg.foreign_tables(conn)):
                    raise CorruptDatabase(
                        f"{self.location} holds another program's tables ({foreign}), not "
                        "traycourier's; it was left untouched — pass another --db"
                    )
        found = self.schema_version()
        if found > LATEST_VERSION:
            raise SchemaTooNew(
                f"{self.location} has schema version {found}, newer than this traycourier "
                f"understands ({LATEST_VERSION}); upgrade traycourier — it was not changed"
            )
        if found < LATEST_VERSION and migrate:
            self._migrate()

    def _migrate(self) -> None:
        with self.write() as conn:
            if self.path is None:
                version = pg.migrate(conn, PG_MIGRATIONS, LATEST_VERSION)
            else:
                # Re-read under the write lock: another process may have migrated meanwhile.
                version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
                if version <= LATEST_VERSION:
                    for step in MIGRATIONS[version:]:
                        for statement in step:
                            conn.exec_driver_sql(statement)
                    conn.exec_driver_sql(f"PRAGMA user_version = {LATEST_VERSION}")
            if version > LATEST_VERSION:
                raise SchemaTooNew(f"{self.location} was upgraded by a newer traycourier meanwhile")
