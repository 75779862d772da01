"""ReverbCode's `ao.db`, followed read-only: every statement traycourier runs on it.

The file is another program's: it is opened with `mode=ro` (never created, never migrated,
no write lock held), and the one write is ReverbCode's own way of marking a row read, made
on a connection opened for that statement and closed at once, with a short busy timeout so
a locked file costs the agent a moment, never a stall. What is read is untrusted like any
producer's row: any SQLite type in any column (`agent.engine.reverbcode` maps it).

The table is ReverbCode's `notifications` (its migration 0011, `research/reverbcode.md`):
`id, session_id, project_id, pr_url, type, title, body, status, created_at`. A release that
drops or renames one of the columns read here is a `SourceUnavailable` naming the column.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import quote

from traycourier.store.errors import StoreError

REQUIRED = ("id", "type", "title", "status", "created_at")
"""The rest of `ForeignRow`'s columns are read when there: a release without one still gives
notifications."""
BUSY_TIMEOUT_S = 0.2
MAX_UNREAD = 2000
"""Unread rows read per look: more than a screen could ever show (the rest come next time)."""
MAX_VALUE = 4000
"""Characters read of any one value: a 10 MB title stays in the file."""
_MAGIC = b"SQLite format 3\x00"
_IDS = "SELECT rowid, id FROM notifications WHERE status = 'unread' ORDER BY rowid LIMIT ?"


class SourceUnavailable(StoreError):
    """A followed file cannot be read now: `str()` says what, `fix` what the user can do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class ForeignRow:
    """One unread row as ReverbCode's table holds it: any column may hold any type."""

    id: object
    type: object
    title: object
    body: object = ""
    pr_url: object = ""
    project_id: object = ""
    session_id: object = ""
    created_at: object = None


@dataclass(frozen=True)
class Unread:
    """What one look found unread: every id (any type: a release or a hand may have written
    anything), oldest first; whole, the rows above the last look's rowid; and the highest
    rowid read. Plain lists: a look reads every unread id, so it costs per id only what it
    must."""

    ids: list[object]
    rows: dict[object, ForeignRow]
    top: int


def default_path(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Where ReverbCode keeps its file: `$AO_DATA_DIR/ao.db`, else `~/.ao/data/ao.db`."""
    folder = env.get("AO_DATA_DIR") or str(Path("~/.ao/data").expanduser())
    return Path(folder) / "ao.db"


def _identity(path: Path) -> tuple[int, int]:
    found = os.stat(path)
    if not stat.S_ISREG(found.st_mode):
        raise SourceUnavailable(f"{path} is not a regular file", "point the source at ao.db")
    return found.st_dev, found.st_ino


class ReverbCodeFile:
    """An open `ao.db`: what is unread there, whether it changed, and marking a row read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._identity = _identity(path)
            with path.open("rb") as handle:
                head = handle.read(len(_MAGIC))
        except FileNotFoundError:
            raise SourceUnavailable(
                f"{path} does not exist", "start ReverbCode, or `source add` its ao.db again"
            ) from None
        except OSError as err:
            raise SourceUnavailable(
                f"cannot read {path}: {err.strerror}", "give this user read access to it"
            ) from err
        if head != _MAGIC:
            raise SourceUnavailable(
                f"{path} is not a SQLite database", "point the source at ReverbCode's ao.db"
            )
        uri = f"file:{quote(str(path))}?mode=ro"
        try:
            self._conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S,
                                         isolation_level=None, check_same_thread=False)  # fmt: skip
            self._schema = self._schema_version()
            self._look, self._select = self._statements(self._check_table())
        except sqlite3.Error as err:
            raise _unavailable(path, err) from err

    def _schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA schema_version").fetchone()[0])

    @staticmethod
    def _statements(columns: set[str]) -> tuple[str, str]:
        """The whole rows added after a rowid (most looks find one new row), and the read of
        rows by id (for a row that turned unread again behind that rowid). Every unread id
        is read by `_IDS`, which reads nothing else: a look costs per unread row only that."""
        whole = ", ".join(_column(f.name, columns) for f in fields(ForeignRow))
        added = (
            f"SELECT rowid, {whole} FROM notifications "
            "WHERE rowid > :after AND rowid <= :top AND status = 'unread' ORDER BY rowid"
        )
        by_id = f"SELECT {whole} FROM notifications WHERE id IN (SELECT value FROM json_each(?))"
        return added, by_id

    def _recheck_schema(self) -> None:
        """A migration of a newer release (a column added, renamed or gone) is noticed at
        the first look after it, not at the next new row."""
        version = self._schema_version()
        if version != self._schema:
            self._look, self._select = self._statements(self._check_table())
            self._schema = version

    def _check_table(self) -> set[str]:
        rows = self._conn.execute("PRAGMA table_info(notifications)").fetchall()
        columns = {str(row[1]) for row in rows}
        if not columns or not {"type", "status"} & columns:
            self._conn.close()
            raise _not_reverbcode(self.path)
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            self._conn.close()
            raise _changed(self.path, ", ".join(missing))
        return columns

    def replaced(self) -> bool:
        """The file at the path is gone or another one (renamed away, restored from a
        backup): this connection would follow the old one."""
        try:
            return _identity(self.path) != self._identity
        except (OSError, SourceUnavailable):
            return True

    def version(self) -> int:
        """Changes whenever another connection commits (`PRAGMA data_version`)."""
        try:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as err:
            raise _unavailable(self.path, err) from err

    def unread(self, after: int) -> Unread:
        """The unread rows, in one read transaction (one snapshot): the ids of all, and whole
        those with a rowid above `after`."""
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                self._recheck_schema()
                found = conn.execute(_IDS, (MAX_UNREAD,)).fetchall()
                top = found[-1][0] if found else after
                added = []
                if top > after:
                    added = conn.execute(self._look, {"after": after, "top": top}).fetchall()
            finally:
                _end_read(conn)
        except sqlite3.Error as err:
            raise _unavailable(self.path, err) from err
        rows = {row[1]: ForeignRow(*row[1:]) for row in added}
        return Unread([row[1] for row in found], rows, max(top, after))

    def rows(self, ids: Sequence[str]) -> list[ForeignRow]:
        """The rows with these ids, whole (unread again behind the last look's rowid)."""
        if not ids:
            return []
        try:
            found = self._conn.execute(self._select, (json.dumps(list(ids)),)).fetchall()
        except sqlite3.Error as err:
            raise _unavailable(self.path, err) from err
        return [ForeignRow(*row) for row in found]

    def mark_read(self, ids: Sequence[str]) -> None:
        """ReverbCode's own `MarkNotificationRead` for each id, in one short transaction on
        a connection of its own (`mode=rw`: it never creates the file)."""
        if not ids:
            return
        uri = f"file:{quote(str(self.path))}?mode=rw"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "UPDATE notifications SET status = 'read' WHERE id = ? AND status = 'unread'",
                    [(i,) for i in ids],
                )
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as err:
            raise _unavailable(self.path, err) from err

    def close(self) -> None:
        self._conn.close()


def _end_read(conn: sqlite3.Connection) -> None:
    """A read has nothing to undo; a connection closed by the look (not ReverbCode's table
    any more) has no transaction left, and what the look raised is what counts."""
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("COMMIT")


def _column(name: str, present: set[str]) -> str:
    """A column as read: text cut to `MAX_VALUE` characters (whatever its type), NULL when
    this release has no such column."""
    if name not in present:
        return "NULL"
    # [brackets]: a column gone since the file was opened is an error, where SQLite would
    # read a "double-quoted" name it cannot find as a string
    return (
        f"CASE typeof([{name}]) WHEN 'text' THEN substr([{name}], 1, {MAX_VALUE}) "
        f"WHEN 'blob' THEN substr([{name}], 1, {MAX_VALUE}) ELSE [{name}] END"
    )


def _not_reverbcode(path: Path) -> SourceUnavailable:
    return SourceUnavailable(
        f"{path} has no ReverbCode notifications table",
        "point the source at ReverbCode's ao.db (`traycourier source add reverbcode`)",
    )


def _changed(path: Path, columns: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"ReverbCode's notifications table in {path} has no column {columns} "
        "(a newer ReverbCode release?)",
        "update traycourier; its own notifications are not affected",
    )


def _unavailable(path: Path, err: sqlite3.Error) -> SourceUnavailable:
    text = str(err)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return SourceUnavailable(
            f"{path} is locked by another process", "nothing to do: it is retried"
        )
    if "no such column" in lowered:  # renamed or dropped since the file was opened
        return _changed(path, text.rpartition(":")[2].strip())
    if "no such table" in lowered:
        return _not_reverbcode(path)
    if "not a database" in lowered or "malformed" in lowered:
        return SourceUnavailable(f"{path} is not a readable SQLite database ({text})",
                                 "point the source at ReverbCode's ao.db")  # fmt: skip
    return SourceUnavailable(f"cannot read {path}: {text}", "check the file and its folder")


def check(path: Path) -> None:
    """What `source add` asks before anything is stored: SourceUnavailable if the path is not
    a ReverbCode database this user can read."""
    ReverbCodeFile(path).close()
