"""The files beside the database stay private and cannot be hijacked; a file that is not
traycourier's, or that is damaged, is refused or reported, never written into."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from traycourier.agent import process
from traycourier.store import CorruptDatabase, Database, DatabaseUnavailable, enqueue


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_file_a_producer_created_first_is_made_private(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    old = os.umask(0o022)
    try:  # what the README's `sqlite3 FILE "INSERT …"` does before any agent ran
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE scratch (x)")
        conn.execute("DROP TABLE scratch")
        conn.commit()
        keep = sqlite3.connect(db_path)  # keeps -wal and -shm in place
        keep.execute("SELECT 1").fetchall()
    finally:
        os.umask(old)
    assert mode(db_path) == 0o644
    db = Database.open(db_path)
    enqueue(db, "x")
    for member in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        assert mode(member) == 0o600, member
    db.close()
    keep.close()


def test_a_dangling_symlink_at_the_database_path_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "someone-elses" / "target.db"
    link = tmp_path / "tc.db"
    link.symlink_to(elsewhere)
    with pytest.raises(DatabaseUnavailable, match="symbolic link"):
        Database.open(link)
    assert not elsewhere.exists() and not elsewhere.parent.exists()


def test_a_symlink_to_an_existing_database_is_followed(db_path: Path, tmp_path: Path) -> None:
    Database.open(db_path).close()
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    Database.open(link).close()


def test_another_programs_sqlite_file_is_refused_and_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices(total) VALUES (12.5)")
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with pytest.raises(
        CorruptDatabase, match=r"another program's SQLite database \(tables: invoices\)"
    ):
        Database.open(db_path)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_quick_check_reports_damage(db_path: Path) -> None:
    db = Database.open(db_path)
    for i in range(300):
        enqueue(db, f"n{i} " + "x" * 200)
    assert db.quick_check() == "ok"
    db.close()
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 64] = b"\xff" * 64  # scribble over a b-tree page header
    db_path.write_bytes(bytes(data))
    for member in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        member.unlink(missing_ok=True)
    damaged = Database.open(db_path)  # the header is intact: only a check finds the damage
    result = damaged.quick_check()
    damaged.close()
    assert result != "ok" and result


def test_quick_check_stops_at_its_time_limit(db_path: Path) -> None:
    db = Database.open(db_path)
    for i in range(2000):
        enqueue(db, f"n{i}")
    assert db.quick_check(limit_s=0.0) == "not finished within 0 s"
    db.close()


def test_the_pid_file_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    db = tmp_path / "shared" / "tc.db"
    db.parent.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    Path(f"{db}.tray.pid").symlink_to(victim)
    lock = process.single_instance(db)
    lock.release()
    assert victim.read_text() == "precious"


def test_the_lock_file_is_never_opened_through_a_symlink(tmp_path: Path) -> None:
    db = tmp_path / "shared" / "tc.db"
    db.parent.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    Path(f"{db}.tray.lock").symlink_to(victim)
    with pytest.raises(OSError):
        process.single_instance(db)
    assert victim.read_text() == "precious"
