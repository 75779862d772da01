"""The shared database as a SQLite file: opening it (`store.sqlitefile` refuses what is not
ours and makes it private), its transactions (BEGIN IMMEDIATE to write), its schema steps
(`store.migrations`, `PRAGMA user_version`), and a replaced file opened again. Its wake-up
is `store.sqlitewake`, imported when an agent first listens (a producer needs none).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from traycourier.store import pg, sqlitefile
from traycourier.store.db import QUICK_CHECK_S, Database
from traycourier.store.errors import StoreError
from traycourier.store.migrations import LATEST_VERSION, MIGRATIONS
from traycourier.store.sqlitefile import BUSY_TIMEOUT_S, FileSet

if TYPE_CHECKING:
    from traycourier.store.sqlitewake import FileWaker

log = logging.getLogger(__name__)


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__(sqlitefile.prepare(path), str(path))
        self.path: Path = path
        self._files = FileSet(path)

    @staticmethod
    def takes(target: str | os.PathLike[str]) -> bool:
        return not pg.is_url(target)

    @classmethod
    def connect(cls, target: str | os.PathLike[str]) -> SqliteDatabase:
        return cls(Path(target).expanduser().absolute())

    def translate(self, err: BaseException) -> StoreError:
        return sqlitefile.translate(err, self.path)

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def _refuse_foreign(self) -> None:
        """Done before the file is opened at all (`sqlitefile.prepare`)."""

    def _migrate_in(self, conn: Connection) -> int:
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        if version <= LATEST_VERSION:
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"PRAGMA user_version = {LATEST_VERSION}")
        return version

    def listen(self) -> FileWaker:
        from traycourier.store.sqlitewake import FileWaker

        return FileWaker(self.path)

    def replaced(self) -> bool:
        return self._files.changed()

    def reopen(self) -> None:
        """When only its -wal was deleted, first, through a connection opened before,
        whatever sits only in that -wal is written into the file and the wal-index reset:
        otherwise it is lost, and every new connection meets "disk I/O error" until the last
        old one closes."""
        # Only into the same file: had the file itself been replaced, a new producer's
        # commits could already sit in that -wal, and would go into the old file.
        if self._files.same_database():
            try:  # outside any transaction: a checkpoint cannot run inside one
                pooled = self.engine.raw_connection()
                try:
                    pooled.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    pooled.close()
            except (sa_exc.DBAPIError, sqlite3.Error) as err:
                log.warning("could not write the old -wal back into %s: %s", self.path, err)
        self.engine.dispose()
        self.engine = sqlitefile.prepare(self.path)
        self._files = FileSet(self.path)
        self._reopened()

    def quick_check(self, limit_s: float = QUICK_CHECK_S) -> str:
        """`PRAGMA quick_check`, stopped after `limit_s`: "ok", the first problems it found,
        or that it did not finish in time (a very large file)."""
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
