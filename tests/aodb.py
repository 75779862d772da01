"""A true ReverbCode `ao.db` for tests, built from the facts in research/reverbcode.md (our own
DDL; nothing of ReverbCode's is copied): goose's version table, the `projects` and `sessions`
rows its foreign keys need, and the `notifications` table of its migration 0011 with its two
indexes, in WAL mode with foreign keys on, as ReverbCode's Go store opens it. Rows are
written the way its `CreateNotification` writes them: an `ntf_` UUID and a Go `time.Time` as
modernc's driver stores it (`time.Time.String()`).
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

GOOSE_VERSIONS = 19

_SCHEMA = [
    "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, "
    "tstamp TIMESTAMP DEFAULT (datetime('now')))",
    "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', "
    "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, "
    "project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, "
    "name TEXT NOT NULL DEFAULT '')",
    """CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        pr_url TEXT NOT NULL DEFAULT '',
        type TEXT NOT NULL CHECK (type IN
            ('needs_input', 'ready_to_merge', 'pr_merged', 'pr_closed_unmerged')),
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'unread' CHECK (status IN ('read', 'unread')),
        created_at TIMESTAMP NOT NULL
    )""",
    "CREATE INDEX idx_notifications_status_created ON notifications (status, created_at DESC)",
    "CREATE UNIQUE INDEX idx_notifications_unread_once ON notifications "
    "(session_id, type, pr_url) WHERE status = 'unread'",
]


def go_time(moment: datetime, zone: str = "UTC", monotonic: str | None = None) -> str:
    """`time.Time.String()`: nanoseconds, the offset, the zone's name, perhaps `m=±…`."""
    offset = moment.strftime("%z") or "+0000"
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "123" + f" {offset} {zone}"
    return text + (f" m={monotonic}" if monotonic else "")


def connect(path: Path) -> sqlite3.Connection:
    """ReverbCode's own connection settings (WAL, busy timeout 5 s, foreign keys on)."""
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


PROJECT = "acme-app"
BODY = "All checks passed."


def build(path: Path, projects: tuple[str, ...] = ("acme-app",)) -> Path:
    """A migrated `ao.db` with a session per project (`<project>-s1`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("BEGIN")
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)",
            [(v,) for v in range(GOOSE_VERSIONS + 1)],
        )
        for project in projects:
            conn.execute("INSERT INTO projects (id, name) VALUES (?, ?)", (project, project))
            conn.execute(
                "INSERT INTO sessions (id, project_id, name) VALUES (?, ?, ?)",
                (f"{project}-s1", project, "fix-login"),
            )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def create(
    path: Path,
    kind: str = "ready_to_merge",
    *,
    title: str = "acme/app#7 is ready to merge",
    body: str = BODY,
    pr_url: str | None = "https://github.com/acme/app/pull/7",
    project: str = PROJECT,
    when: datetime | None = None,
    zone: str = "UTC",
    conn: sqlite3.Connection | None = None,
) -> str:
    """One row as `CreateNotification` writes it; its id."""
    row_id = f"ntf_{uuid.uuid4()}"
    moment = when or datetime.now(UTC)
    own = conn is None
    conn = conn or connect(path)
    try:
        conn.execute(
            "INSERT INTO notifications (id, session_id, project_id, pr_url, type, title, body, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row_id, f"{project}-s1", project, "" if pr_url is None else pr_url, kind, title,
             body, go_time(moment, zone)),
        )  # fmt: skip
    finally:
        if own:
            conn.close()
    return row_id


def status(path: Path, row_id: str) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT status FROM notifications WHERE id = ?", (row_id,)).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


def mark_read(path: Path, row_id: str) -> None:
    """What ReverbCode's dashboard does."""
    conn = connect(path)
    try:
        conn.execute(
            "UPDATE notifications SET status = 'read' WHERE id = ? AND status = 'unread'",
            (row_id,),
        )
    finally:
        conn.close()


def schema_of(path: Path) -> list[tuple[str, ...]]:
    """The file's schema, to prove traycourier changed none of it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
    finally:
        conn.close()


EAST = timezone(timedelta(hours=5, minutes=30))
"""A zone with a half-hour offset: Go writes `+0530 IST`."""
