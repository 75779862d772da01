"""The SQLite side of opening the shared file: refusing what is not ours (another format,
another program's tables, a dangling link), making it private, and the engine with WAL and
`BEGIN IMMEDIATE`; plus `PRAGMA data_version`, which tells the wake-up a real commit.

Every write runs in `BEGIN IMMEDIATE`: in WAL mode a deferred transaction that later needs
the write lock fails at once with "database is locked" instead of waiting, so the lock is
taken up front. It is waited for here (`take_write_lock`), not by SQLite's busy handler:
that one sleeps in steps up to 100 ms, so a writer that lost a few races to others sat out
many of their commits (a producer's commit waited up to a second beside two agents).
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import stat
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event

from traycourier.store import private
from traycourier.store.errors import (
    CorruptDatabase,
    DatabaseBusy,
    DatabaseUnavailable,
    StoreError,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
_SQLITE_MAGIC = b"SQLite format 3\x00"


def translate(err: BaseException, path: Path) -> StoreError:
    """Turn a driver error into one line a user can act on."""
    text = str(getattr(err, "orig", err) or err)
    if isinstance(err, StoreError):
        return err
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseBusy(
            f"{path} stayed locked by another process for more than {BUSY_TIMEOUT_S:.0f} s"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return CorruptDatabase(f"{path} is corrupt ({text}); it was left untouched")
    if "readonly" in lowered or "unable to open" in lowered or "disk i/o" in lowered:
        return DatabaseUnavailable(f"cannot write {path}: {text}")
    return StoreError(f"database error on {path}: {text}")


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


def _check_not_a_dangling_link(path: Path) -> None:
    """SQLite would follow a symlink to a missing file and create the target wherever it
    points (another user's folder, a shared one): refuse instead."""
    if path.is_symlink() and not path.exists():
        raise DatabaseUnavailable(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; "
            "refusing to create a database through it"
        )


def _check_a_regular_file(path: Path) -> None:
    """Only a regular file (or nothing yet) is ours: `--db /dev/null` as root would make
    the device private and add a journal beside it, and a FIFO blocks the first open()."""
    try:
        found = path.stat()  # a link is judged by what it points to
    except FileNotFoundError:
        return
    if stat.S_ISREG(found.st_mode):
        return
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    kind = next((name for test, name in kinds.items() if test(found.st_mode)), "a device")
    raise DatabaseUnavailable(
        f"{path} is not a regular file ({kind}); pass the path of a database file"
    )


def _refuse_a_foreign_file(path: Path) -> None:
    """Version 0 is a new, empty file; one with tables of its own belongs to another program
    and is never written into. Read-only, before the engine would switch the file to WAL."""
    try:
        if path.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        # one read transaction: between two separate reads a producer creating the file
        # could commit its tables and version, and the file would look foreign
        conn.execute("BEGIN")
        if conn.execute("PRAGMA user_version").fetchone()[0] != 0:
            return
        found = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 3"
            )
        ]
    except sqlite3.DatabaseError as err:
        raise translate(err, path) from err
    finally:
        conn.close()
    if found:
        raise CorruptDatabase(
            f"{path} is another program's SQLite database (tables: {', '.join(found)}), "
            "not traycourier's; it was left untouched — pass another --db"
        )


def _create_private_file(path: Path) -> None:
    """Create the directory and an empty file readable by its owner only (mode 0600), or make
    an existing one private: a producer's `sqlite3 file "INSERT …"` creates it 0644.

    SQLite gives new -wal and -shm files the mode of the main file; existing ones are
    made private here too.
    """
    private.make_dirs(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW, 0o600)
    except FileExistsError:
        real = path.resolve()  # SQLite, too, keeps -wal and -shm beside a link's target
        for member in (real, Path(f"{real}-wal"), Path(f"{real}-shm")):
            _make_private(member)
        return
    os.close(fd)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _make_private(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):  # a link or a device put there: never chmod through it
        log.warning("%s is not a regular file; left as it is", path)
        return
    if mode & 0o077:
        try:
            path.chmod(0o600)
        except PermissionError:  # another user's file: reading may still work
            log.warning("%s is readable by others and not ours to make private", path)


def prepare(db_path: Path) -> Engine:
    """Check the file, make it private, and build the engine (no connection opened yet)."""
    try:
        _check_not_a_dangling_link(db_path)
        _check_a_regular_file(db_path)
        _check_header(db_path)
        _refuse_a_foreign_file(db_path)
    except OSError as err:  # a folder on the way we may not read
        raise DatabaseUnavailable(f"cannot reach {db_path}: {err.strerror}") from err
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
    return engine


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path` now, or None when there is none: a change
    means the file was deleted or replaced."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


class FileSet:
    """The database file and its -wal as they were when opened. Either deleted or replaced
    means the open connections no longer see what producers write: a new file, or a -wal
    that is gone (new producers then fail with "disk I/O error", and whatever sat only in
    the old -wal is lost once the last connection to it dies). Closing every connection
    while the old -wal is still open writes its commits into the file; then open again."""

    def __init__(self, path: Path) -> None:
        self.path, self.wal_path = path, Path(f"{path}-wal")
        self._db = file_identity(path)
        self._wal = file_identity(self.wal_path)

    def same_database(self) -> bool:
        """The file is still the one opened (only its -wal may have gone)."""
        return file_identity(self.path) == self._db

    def changed(self) -> bool:
        if not self.same_database():
            return True
        wal = file_identity(self.wal_path)
        if self._wal is None:  # not made yet when opened: SQLite makes it at the first read
            self._wal = wal
            return False
        return wal != self._wal


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
        take_write_lock(conn.connection.driver_connection)  # type: ignore[arg-type]


LOCK_PAUSE_S = (0.0005, 0.004)
"""Between two tries for the write lock, a random pause in this range: short, so a writer
gets in soon after the holder commits; random, so waiting writers do not try in step."""


def take_write_lock(raw: sqlite3.Connection, timeout_s: float = BUSY_TIMEOUT_S) -> None:
    """`BEGIN IMMEDIATE`, tried again after short random pauses for up to `timeout_s` while
    another connection holds the write lock; then the driver's "database is locked". The
    connection's busy timeout stays for everything else (a reader meeting a checkpoint)."""
    deadline = time.monotonic() + timeout_s
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                words = str(err).lower()
                if ("locked" not in words and "busy" not in words) or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(*LOCK_PAUSE_S))
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


class DataVersionProbe:
    """`PRAGMA data_version` on one long-lived connection: it changes when another
    connection commits, which is how the wake-up tells a real commit from a stray event."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)

    def value(self) -> int:
        """The version; -1 while the file cannot be read (replaced by something that is not
        a database, locked past the timeout): the next tick then says what is wrong."""
        try:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return -1

    def close(self) -> None:
        self._conn.close()
