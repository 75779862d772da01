"""Opening the shared file: engine set-up, the schema version gate, and transactions.

Every write runs in `BEGIN IMMEDIATE`: in WAL mode a deferred transaction that later needs
the write lock fails at once with "database is locked" instead of waiting, so taking the
lock up front is what lets the busy timeout do its job for many writer processes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc

from traycourier.store.errors import CorruptDatabase, DatabaseUnavailable, SchemaTooNew, StoreError
from traycourier.store.migrations import LATEST_VERSION, MIGRATIONS

BUSY_TIMEOUT_S = 10.0
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite before SQLite (or we) could write to it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as err:
        raise DatabaseUnavailable(f"cannot read database {path}: {err.strerror}") from err
    if head and head != _SQLITE_MAGIC:
        raise CorruptDatabase(
            f"{path} is not a SQLite database (corrupt or another file); "
            "it was left untouched — move it aside or pass another --db"
        )


def _create_private_file(path: Path) -> None:
    """Create the directory and an empty file readable by its owner only (mode 0600).

    SQLite gives the -wal and -shm files the mode of the main file, so they stay private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def translate(err: BaseException, path: Path) -> StoreError:
    """Turn a driver error into one line a user can act on."""
    text = str(getattr(err, "orig", err) or err)
    if isinstance(err, StoreError):
        return err
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseUnavailable(
            f"{path} stayed locked by another process for more than {BUSY_TIMEOUT_S:.0f} s"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return CorruptDatabase(f"{path} is corrupt ({text}); it was left untouched")
    if "readonly" in lowered or "unable to open" in lowered:
        return DatabaseUnavailable(f"cannot write {path}: {text}")
    return StoreError(f"database error on {path}: {text}")


class Database:
    """One shared SQLite file. Thread-safe: each transaction takes its own connection."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, migrate: bool = True) -> Database:
        """Open (creating if missing) and bring the schema to this version.

        Raises CorruptDatabase or SchemaTooNew without writing a byte to the file.
        """
        db_path = Path(path).expanduser().absolute()
        _check_header(db_path)
        try:
            _create_private_file(db_path)
        except OSError as err:
            raise DatabaseUnavailable(f"cannot create {db_path}: {err.strerror}") from err
        engine = create_engine(
            f"sqlite:///{db_path}",
            connect_args={
                "timeout": BUSY_TIMEOUT_S,
                "isolation_level": None,
                "check_same_thread": False,
            },
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        db = cls(db_path, engine)
        try:
            db._gate_version(migrate)
        except BaseException:
            engine.dispose()
            raise
        return db

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE); commits on success, rolls back on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (sa_exc.DBAPIError, sqlite3.Error) as err:
            raise translate(err, self.path) from err

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
            raise translate(err, self.path) from err

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def _gate_version(self, migrate: bool) -> None:
        found = self.schema_version()
        if found > LATEST_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema version {found}, newer than this traycourier "
                f"understands ({LATEST_VERSION}); upgrade traycourier — the file was not changed"
            )
        if found < LATEST_VERSION and migrate:
            self._migrate()

    def _migrate(self) -> None:
        with self.write() as conn:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
            if version > LATEST_VERSION:
                raise SchemaTooNew(f"{self.path} was upgraded by a newer traycourier meanwhile")
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"PRAGMA user_version = {LATEST_VERSION}")


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # A producer in another language may write bytes that are not UTF-8; reading them must
    # not raise, or one bad row would stop every query that touches it.
    dbapi_conn.text_factory = _decode_text
    cursor = dbapi_conn.cursor()
    try:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("traycourier_read"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class DataVersionProbe:
    """`PRAGMA data_version` on one long-lived connection: it changes when another
    connection commits, which is how the wake-up tells a real commit from a stray event."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)

    def value(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self._conn.close()
