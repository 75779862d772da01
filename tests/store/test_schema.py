"""The shared file's contract, checked on a real SQLite file with the plain sqlite3 module,
the way a producer in another language would see it."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import inspect

from traycourier.store import (
    LATEST_VERSION,
    Action,
    CorruptDatabase,
    Database,
    InvalidInput,
    SchemaTooNew,
    enqueue,
    schema,
)


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def test_a_producer_gives_only_a_title_and_gets_a_valid_row(db: Database) -> None:
    with raw(db.path) as conn:
        conn.execute("INSERT INTO notifications(title) VALUES ('build finished')")
    row = (
        raw(db.path)
        .execute(
            "SELECT id, message, priority, source, kind, payload_json, actions_json, dedupe_key, "
            "created_at, routed_at, read_at, archived_at FROM notifications"
        )
        .fetchone()
    )
    assert re.fullmatch(r"ntf_[0-9a-f]{16}", row[0])
    assert row[1:8] == ("", "info", "", "", "{}", "[]", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", row[8])
    assert row[9:] == (None, None, None)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("priority", "critical"),
        ("payload_json", "{not json"),
        ("actions_json", "[broken"),
        ("actions_json", '{"label": "not a list"}'),
    ],
)
def test_check_constraints_reject_bad_rows(db: Database, column: str, value: str) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"), raw(db.path) as conn:
        conn.execute(f"INSERT INTO notifications(title, {column}) VALUES ('x', ?)", (value,))
    assert raw(db.path).execute("SELECT count(*) FROM notifications").fetchone() == (0,)


def test_title_is_required(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"), raw(db.path) as conn:
        conn.execute("INSERT INTO notifications(message) VALUES ('no title')")


def test_dedupe_key_gives_one_notification(db: Database) -> None:
    first = enqueue(db, "disk full", dedupe_key="disk:/")
    again = enqueue(db, "disk full (again)", dedupe_key="disk:/")
    assert first.created and not again.created
    assert again.id == first.id
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), raw(db.path) as conn:
        conn.execute("INSERT INTO notifications(title, dedupe_key) VALUES ('x', 'disk:/')")
    assert raw(db.path).execute("SELECT count(*), min(title) FROM notifications").fetchone() == (
        1,
        "disk full",
    )


def test_enqueue_stores_every_field(db: Database) -> None:
    result = enqueue(
        db,
        "deploy failed",
        "step 3 of 5",
        priority="urgent",
        source="ci",
        kind="deploy.failed",
        payload={"job": 7},
        actions=[Action("Open log", "https://ci.example/7")],
    )
    row = (
        raw(db.path)
        .execute(
            "SELECT title, message, priority, source, kind, json_extract(payload_json, '$.job'), "
            "json_extract(actions_json, '$[0].url') FROM notifications WHERE id = ?",
            (result.id,),
        )
        .fetchone()
    )
    assert row == (
        "deploy failed",
        "step 3 of 5",
        "urgent",
        "ci",
        "deploy.failed",
        7,
        "https://ci.example/7",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "  "}, "non-empty title"),
        ({"title": "x", "priority": "high"}, "priority must be"),
        ({"title": "x", "actions": [Action("Run", "file:///bin/sh")]}, "http"),
        ({"title": "x", "actions": [Action(" ", "https://a")]}, "label"),
        ({"title": "x", "dedupe_key": ""}, "dedupe key"),
    ],
)
def test_enqueue_rejects_bad_input_and_writes_nothing(
    db: Database, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        enqueue(db, **kwargs)
    assert raw(db.path).execute("SELECT count(*) FROM notifications").fetchone() == (0,)


def test_file_is_private_and_in_wal_mode(db_path: Path) -> None:
    assert not db_path.parent.exists()
    Database.open(db_path).close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    conn = raw(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.execute("INSERT INTO notifications(title) VALUES ('x')")
    conn.commit()
    wal = db_path.with_name(db_path.name + "-wal")
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600


def test_engine_turns_on_foreign_keys_and_busy_timeout(db: Database) -> None:
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


def test_table_definitions_match_the_migrated_file(db: Database) -> None:
    inspector = inspect(db.engine)
    for table in schema.metadata.sorted_tables:
        in_file = {c["name"] for c in inspector.get_columns(table.name)}
        assert in_file == set(table.c.keys()), table.name


# The version-1 schema exactly as that release wrote it, kept here so that the upgrade is
# tested against a file built without the current code.
V1_DDL = """
CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE DEFAULT ('ntf_' || lower(hex(randomblob(8)))),
    title TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT 'info'
        CHECK (priority IN ('urgent', 'action', 'warning', 'info')),
    source TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    routed_at TEXT
);
CREATE TABLE notification_deliveries (
    id INTEGER PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    route_name TEXT NOT NULL,
    sink TEXT NOT NULL,
    destination_key TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN
        ('queued', 'leased', 'retry_wait', 'sent', 'failed', 'skipped', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    next_attempt_at TEXT,
    lease_owner TEXT,
    lease_expires_at TEXT,
    last_error_code TEXT,
    last_error TEXT,
    external_id TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    delivered_at TEXT,
    UNIQUE (notification_id, route_name, destination_key)
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL CHECK (json_valid(value)),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now'))
);
PRAGMA user_version = 1;
"""


def test_a_version_1_file_is_upgraded_in_place_without_losing_rows(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.executescript(V1_DDL)
    conn.execute(
        "INSERT INTO notifications(id, title, priority, dedupe_key, routed_at) "
        "VALUES ('ntf_old1', 'old urgent', 'urgent', 'k1', '2026-01-01 00:00:00')"
    )
    conn.execute("INSERT INTO notifications(id, title) VALUES ('ntf_old2', 'old info')")
    conn.execute(
        "INSERT INTO notification_deliveries(notification_id, route_name, sink, status, attempts)"
        " VALUES ('ntf_old1', 'desktop', 'desktop', 'sent', 1)"
    )
    conn.execute("INSERT INTO settings(key, value) VALUES ('min_priority', '\"urgent\"')")
    conn.commit()
    conn.close()

    db = Database.open(db_path)
    try:
        assert db.schema_version() == LATEST_VERSION == 10
    finally:
        db.close()
    conn = sqlite3.connect(db_path)
    assert conn.execute(
        "SELECT id, title, priority, dedupe_key, routed_at, kind, payload_json, actions_json "
        "FROM notifications ORDER BY seq"
    ).fetchall() == [
        ("ntf_old1", "old urgent", "urgent", "k1", "2026-01-01 00:00:00", "", "{}", "[]"),
        ("ntf_old2", "old info", "info", None, None, "", "{}", "[]"),
    ]
    # the new claim rank was computed from the notification's priority
    assert conn.execute(
        "SELECT notification_id, status, attempts, rank FROM notification_deliveries"
    ).fetchall() == [("ntf_old1", "sent", 1, 0)]
    assert conn.execute("SELECT value FROM settings").fetchall() == [('"urgent"',)]
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"ix_notifications_unrouted", "ix_deliveries_pending"} <= indexes


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(db_path: Path) -> None:
    Database.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = _digest(db_path)
    with pytest.raises(SchemaTooNew, match=r"99.*upgrade traycourier"):
        Database.open(db_path)
    assert _digest(db_path) == before
    assert not db_path.with_name(db_path.name + "-wal").exists()


def test_a_corrupt_file_is_refused_and_never_overwritten(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"this is a text file, not a database\n" * 100
    db_path.write_bytes(garbage)
    with pytest.raises(CorruptDatabase, match="not a SQLite database"):
        Database.open(db_path)
    assert db_path.read_bytes() == garbage


def test_a_damaged_database_body_gives_a_clear_error(db_path: Path) -> None:
    db = Database.open(db_path)
    for i in range(200):
        enqueue(db, f"n{i}", "x" * 200)
    db.close()
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page : page * 4] = b"\xff" * (page * 3)  # smash the schema's tables
    db_path.write_bytes(bytes(data))
    damaged = bytes(data)
    with pytest.raises(CorruptDatabase, match="corrupt"):
        db = Database.open(db_path)
        enqueue(db, "after damage")
    assert db_path.read_bytes() == damaged
