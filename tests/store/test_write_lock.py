"""Waiting for SQLite's write lock ourselves (`sqlitefile.take_write_lock`): a write waits
while another process holds the lock and goes in once it is let go; past the timeout it is
the one-line "locked" error; the connection keeps its busy timeout for everything else."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import query
from traycourier.store import Database, enqueue
from traycourier.store.sqlitefile import BUSY_TIMEOUT_S, take_write_lock


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another program in the middle of a write transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notifications (title) VALUES ('from the other program')")
    return other


def test_a_write_waits_for_the_lock_and_goes_in_once_it_is_free(db: Database) -> None:
    assert db.path is not None
    other = hold_write_lock(db.path)
    done = threading.Event()

    def write() -> None:
        enqueue(db, "waited")
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not done.wait(0.5), "the write went in while another held the lock"
    other.execute("COMMIT")
    other.close()
    writer.join(timeout=60)
    assert done.is_set()
    titles = [t for (t,) in query(db, "SELECT title FROM notifications ORDER BY seq")]
    assert titles == ["from the other program", "waited"]


def test_past_its_timeout_a_write_is_the_locked_error_and_changes_nothing(
    db: Database,
) -> None:
    assert db.path is not None
    other = hold_write_lock(db.path)
    raw = sqlite3.connect(db.path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            take_write_lock(raw, timeout_s=0.2)
        assert raw.in_transaction is False
        busy_ms = raw.execute("PRAGMA busy_timeout").fetchone()[0]
        assert busy_ms == int(BUSY_TIMEOUT_S * 1000)  # kept for reads and everything else
    finally:
        raw.close()
        other.execute("ROLLBACK")
        other.close()
