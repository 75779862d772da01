"""The shared database as one object, whatever serves it: a SQLite file (`SqliteDatabase`,
`store/sqlitedb.py`) or a PostgreSQL server (`ServerDatabase`, `store/pgdb.py`). Each backend
owns its connection, the start of its transactions, its schema steps and its wake-up
(`listen`); everything above sees this interface, and no module outside the store names a
backend.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from traycourier.store.errors import SchemaTooNew, StoreError
from traycourier.store.migrations import LATEST_VERSION
from traycourier.store.refusals import Refused
from traycourier.store.transitions import Transitions

if TYPE_CHECKING:
    from traycourier.store.wake import Wakeable

QUICK_CHECK_S = 5.0
"""How long `quick_check` may read before it stops and says it did not finish."""

Dialect = Literal["sqlite", "postgresql"]


class Database(Transitions, ABC):
    """One shared database. Thread-safe: each transaction takes its own connection. The
    delivery state machine's transitions are its methods (`store.transitions`).

    `location` is what may be shown of it (a PostgreSQL URL without its password); `path`
    is the SQLite file and `url` the server's URL (None on the other backend)."""

    dialect: ClassVar[Dialect]
    is_server: ClassVar[bool] = False
    read_options: ClassVar[dict[str, object]] = {"traycourier_read": True}
    """How `read` opens its transaction so that it is one snapshot (SQLite: a deferred BEGIN,
    which holds one snapshot from its first statement)."""
    """A server several machines share: each is a device, its clock is the one every agent
    reads times by, and it keeps its own integrity."""
    path: Path | None = None
    url: str | None = None
    _backends: ClassVar[list[type[Database]]] = []

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        Database._backends.append(cls)

    def __init__(self, engine: Engine, location: str) -> None:
        self.engine = engine
        self.location = location
        self.refused = Refused()
        """Rows this database would not let this process write (`store.refusals`)."""

    @classmethod
    def open(cls, target: str | os.PathLike[str], *, migrate: bool = True) -> Database:
        """Open (creating if missing) and bring the schema to this version. `target` is a
        file path or a `postgresql://` URL: the backend that takes it opens it.

        Raises CorruptDatabase or SchemaTooNew without writing a byte to the file.
        """
        backend = next(b for b in Database._backends if b.takes(target))
        db = backend.connect(target)
        try:
            db._gate_version(migrate)
        except BaseException:
            db.engine.dispose()
            raise
        return db

    # -- what each backend does its own way --------------------------------------------

    @staticmethod
    @abstractmethod
    def takes(target: str | os.PathLike[str]) -> bool:
        """Whether this backend serves `target` (exactly one does)."""

    @classmethod
    @abstractmethod
    def connect(cls, target: str | os.PathLike[str]) -> Database:
        """The object for `target`, its schema not yet checked (`open` does that)."""

    @abstractmethod
    def translate(self, err: BaseException) -> StoreError:
        """A driver error as one line a user can act on (`store.errors`)."""

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def _refuse_foreign(self) -> None:
        """CorruptDatabase when another program's tables stand where ours would go."""

    @abstractmethod
    def _migrate_in(self, conn: Connection) -> int:
        """Run the steps this schema lacks, under the write lock; the version found."""

    @abstractmethod
    def listen(self) -> Wakeable:
        """What wakes the agent when another process commits here."""

    def replaced(self) -> bool:
        """Whether the file or its -wal is no longer the one this object opened (deleted,
        moved away, or replaced by another file). A server is never replaced."""
        return False

    def reopen(self) -> None:
        """Open it again (a replaced file), creating and migrating it if it is gone."""
        self.engine.dispose()
        self._reopened()

    def _reopened(self) -> None:
        self.refused = Refused()  # another file: its rows are other rows
        self._gate_version(migrate=True)

    def quick_check(self, limit_s: float = QUICK_CHECK_S) -> str:
        """ "ok", or the damage found. A server keeps its own integrity: "ok" once it
        answers."""
        with self.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return "ok"

    def server_time(self) -> datetime | None:
        """The server's clock; None for a file, whose only clock is this machine's."""
        return None

    def listen_problem(self) -> str | None:
        """Why another process's commit would not wake an agent here, or None."""
        return None

    # -- the same on both ---------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
                self.engine.connect().execution_options(**self.read_options) as conn,
                conn.begin(),
            ):
                yield conn
        except (sa_exc.DBAPIError, sqlite3.Error) as err:
            raise self.translate(err) from err

    def _gate_version(self, migrate: bool) -> None:
        self._refuse_foreign()
        found = self.schema_version()
        if found > LATEST_VERSION:
            raise SchemaTooNew(
                f"{self.location} has schema version {found}, newer than this traycourier "
                f"understands ({LATEST_VERSION}); upgrade traycourier — it was not changed"
            )
        if found < LATEST_VERSION and migrate:
            with self.write() as conn:
                version = self._migrate_in(conn)
                if version > LATEST_VERSION:
                    raise SchemaTooNew(
                        f"{self.location} was upgraded by a newer traycourier meanwhile"
                    )
