"""The files beside the database stay private and cannot be hijacked; a file that is not
traycourier's, or that is damaged, is refused or reported, never written into."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from traycourier.agent.cli import process
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
    """A write through the link lands in the file it points at; the link stays a link."""
    Database.open(db_path).close()
    link = tmp_path / "link.db"
    link.symlink_to(db_path)
    db = Database.open(link)
    enqueue(db, "through the link")
    db.close()
    assert link.is_symlink() and link.resolve() == db_path.resolve()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT title FROM notifications").fetchall() == [("through the link",)]


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


NOT_REGULAR = {
    "a FIFO": lambda path: os.mkfifo(path, 0o644),
    "a device": lambda path: os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3)),
    "a folder": lambda path: path.mkdir(mode=0o755),
}


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_a_database_path_that_is_not_a_regular_file_is_refused_untouched(
    tmp_path: Path, kind: str
) -> None:
    """`--db /dev/null` as root made /dev/null 0600 and left /dev/null-journal; a FIFO
    blocked every command forever in open()."""
    path = tmp_path / "tc.db"
    NOT_REGULAR[kind](path)
    before = path.lstat()
    result = run_cli("status", db=path)  # a hang here is the FIFO bug
    assert result.returncode == 1
    assert result.stderr == (
        f"traycourier: error: {path} is not a regular file ({kind}); "
        "pass the path of a database file\n"
    )
    assert stat.S_IMODE(path.lstat().st_mode) == stat.S_IMODE(before.st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tc.db"]  # no -journal, -wal


def test_an_unreadable_folder_is_one_line_not_an_internal_error(db_path: Path) -> None:
    """As an ordinary user (root reads anything): the folder of the database made 0000."""
    scratch = Path(tempfile.mkdtemp(prefix="tc-unreadable-"))
    try:
        os.chmod(scratch, 0o755)
        folder = scratch / "data"
        folder.mkdir(mode=0o700)
        os.chown(folder, pwd.getpwnam("nobody").pw_uid, -1)
        folder.chmod(0o000)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        result = subprocess.run(
            [*as_nobody, sys.executable, "-m", "traycourier.agent", "--db",
             str(folder / "tc.db"), "status"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(scratch)},
        )  # fmt: skip
    finally:
        shutil.rmtree(scratch)
    assert result.returncode == 1
    assert result.stderr == (
        f"traycourier: error: cannot reach {folder / 'tc.db'}: Permission denied\n"
    )
