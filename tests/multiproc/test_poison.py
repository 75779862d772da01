"""No row, setting or file state can stop delivery: each hostile value below is written the
way another program would (the plain sqlite3 module, foreign keys off), next to three good
urgent notifications, while a real agent process runs on the file. The hostile row ends in a
recorded state with its reason, the good ones are shown, the agent keeps running, and a
restart is clean."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, agent_command, run_cli, wait_for
from traycourier.agent.policy.wording import shown_value
from traycourier.store import DEFAULTS, Database, enqueue

GOOD = ("good one", "good two", "good three")


def raw(db_path: Path) -> sqlite3.Connection:
    """A producer's connection: autocommit, foreign keys off (the sqlite3 shell's default)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


class Agent:
    def __init__(self, db_path: Path, tmp: Path) -> None:
        self.record = tmp / "shown.jsonl"
        self.stderr_path = tmp / "agent.stderr"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp / "state")}
        self.db_path = db_path
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        command = agent_command(self.db_path, "--headless", "--notifier", f"record:{self.record}")
        with self.stderr_path.open("a") as err:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=err, text=True
            )

    def shown(self) -> list[str]:
        if not self.record.exists():
            return []
        return [json.loads(line)["title"] for line in self.record.read_text().splitlines()]

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def once(self) -> subprocess.CompletedProcess[str]:
        command = agent_command(
            self.db_path, "--headless", "--once", "--notifier", f"record:{self.record}"
        )
        return subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)


def delivery_of(db_path: Path, where: str) -> tuple[str, str | None, str | None] | None:
    row = (
        raw(db_path)
        .execute(
            "SELECT d.status, d.last_error_code, d.last_error FROM notification_deliveries d "
            f"WHERE {where}"
        )
        .fetchone()
    )
    return row


def by_title(title: str) -> str:
    return f"d.notification_id IN (SELECT id FROM notifications WHERE title = '{title}')"


def _orphan(conn: sqlite3.Connection) -> str:
    # one transaction: the running agent must never see the notification still there
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO notifications(id, title, priority, routed_at) "
        "VALUES ('ntf_gone', 'gone', 'urgent', '2026-01-01 00:00:00')"
    )
    conn.execute(
        "INSERT INTO notification_deliveries(notification_id, route_name, sink, status, rank, "
        "next_attempt_at) VALUES ('ntf_gone', 'desktop', 'desktop', 'queued', 0, "
        "'2000-01-01 00:00:00')"
    )
    conn.execute("DELETE FROM notifications WHERE id = 'ntf_gone'")
    conn.execute("COMMIT")
    return "d.notification_id = 'ntf_gone'"


def _row(sql: str, title: str, *pragmas: str) -> Callable[[sqlite3.Connection], str]:
    def write(conn: sqlite3.Connection) -> str:
        for pragma in pragmas:
            conn.execute(pragma)
        conn.execute(sql)
        return by_title(title)

    return write


HOSTILE_ROWS = {
    "a delivery whose notification was deleted": (_orphan, "orphaned"),
    "an id that is not UTF-8": (
        _row(
            "INSERT INTO notifications(id, title, priority) "
            "VALUES (CAST(x'6e7466ff' AS TEXT), 'bad id', 'urgent')",
            "bad id",
        ),
        "invalid_row",
    ),
    "an id that is a BLOB": (
        _row(
            "INSERT INTO notifications(id, title, priority) VALUES (x'00ff', 'blob id', 'urgent')",
            "blob id",
        ),
        "invalid_row",
    ),
    "a created_at before year 1 in UTC": (
        _row(
            "INSERT INTO notifications(title, priority, created_at) "
            "VALUES ('early', 'urgent', '0001-01-01T00:00:00+05:00')",
            "early",
        ),
        "invalid_row",
    ),
    "a created_at after year 9999 in UTC": (
        _row(
            "INSERT INTO notifications(title, priority, created_at) "
            "VALUES ('late', 'urgent', '9999-12-31T23:59:59-05:00')",
            "late",
        ),
        "invalid_row",
    ),
    "a priority past the CHECK": (
        _row(
            "INSERT INTO notifications(title, priority) VALUES ('bogus', 'bogus')",
            "bogus",
            "PRAGMA ignore_check_constraints = 1",
        ),
        "invalid_row",
    ),
    "a BLOB title": (
        _row(
            "INSERT INTO notifications(title, priority) VALUES (x'c3a9ff', 'urgent')",
            "never matches",
        ),
        None,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HOSTILE_ROWS))
def test_a_hostile_row_fails_alone_and_the_agent_keeps_delivering(
    db_path: Path, tmp_path: Path, case: str
) -> None:
    write, code = HOSTILE_ROWS[case]
    Database.open(db_path).close()
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        wait_for(lambda: db_path.with_name(db_path.name + "-wal").exists(), "the agent to start")
        where = write(raw(db_path))
        db = Database.open(db_path)
        for title in GOOD:
            enqueue(db, title, priority="urgent")
        db.close()
        wait_for(lambda: set(GOOD) <= set(agent.shown()), "the good notifications")
        if code is not None:
            wait_for(lambda: delivery_of(db_path, where) is not None, "the hostile row's state")
            status, found_code, reason = delivery_of(db_path, where)  # type: ignore[misc]
            assert (status, found_code) == ("failed", code)
            assert reason
        else:  # a BLOB title: failed, and it is never a title shown
            wait_for(
                lambda: (
                    raw(db_path)
                    .execute(
                        "SELECT last_error_code FROM notification_deliveries d "
                        "JOIN notifications n ON n.id = d.notification_id "
                        "WHERE typeof(n.title) = 'blob'"
                    )
                    .fetchone()
                    == ("invalid_row",)
                ),
                "the BLOB title's row to fail as invalid_row",
            )
        assert agent.process is not None and agent.process.poll() is None, "the agent died"
    finally:
        status = agent.stop()
    assert status == 0
    assert agent.shown().count("good one") == 1
    again = agent.once()
    assert again.returncode == 0, again.stderr
    assert "internal error" not in again.stderr.lower()
    assert "Traceback" not in agent.stderr_path.read_text()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_age_seconds", "100000000000000"),
        ("paused_until", '"0001-01-01T00:00:00+05:00"'),
        ("paused_until", '"9999-12-31T23:59:59Z"'),
        ("burst_limit", '"lots"'),
        ("min_priority", "[" * 100_000 + "]" * 100_000),  # deeper than json can read
        ("min_priority", '"' + "x" * 2_000_000 + '"'),  # never carried into the agent
        ("min_priority", b"\x00urgent"),
        ("burst_limit", "not json"),
        ("enable_notifications", "7"),
    ],
    ids=lambda value: repr(value)[:24],
)
def test_a_setting_another_program_broke_is_ignored_everywhere(
    db_path: Path, tmp_path: Path, key: str, value: str | bytes
) -> None:
    Database.open(db_path).close()
    conn = raw(db_path)
    conn.execute("PRAGMA ignore_check_constraints = 1")  # any value, JSON or not
    conn.execute("INSERT INTO settings(key, value) VALUES (?, ?)", (key, value))
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        db = Database.open(db_path)
        for title in GOOD:
            enqueue(db, title, priority="urgent")
        db.close()
        wait_for(lambda: set(GOOD) <= set(agent.shown()), "the good notifications")
        assert agent.process is not None and agent.process.poll() is None
    finally:
        assert agent.stop() == 0
    log = agent.stderr_path.read_text()
    assert f"setting {key} = " in log and "its default applies" in log
    assert log.count(f"setting {key} = ") == 1  # once, not once per tick
    for command in (["status"], ["settings", "get"]):
        result = run_cli(*command, db=db_path)
        assert result.returncode == 0, result.stderr
    shown = run_cli("settings", "get", key, db=db_path)
    assert shown.stdout == shown_value(key, DEFAULTS[key]) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_under_the_agent_is_opened_again(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    Database.open(db_path).close()
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        wait_for(lambda: db_path.with_name(db_path.name + "-wal").exists(), "the agent to start")
        if how == "deleted":
            for suffix in ("", "-wal", "-shm"):
                db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
        else:  # another file moved into its place, as a restore from backup does
            fresh = tmp_path / "restored.db"
            Database.open(fresh).close()
            fresh.replace(db_path)
        db = Database.open(db_path)
        for title in GOOD:
            enqueue(db, title, priority="urgent")
        db.close()
        wait_for(lambda: set(GOOD) <= set(agent.shown()), "the good notifications", 60)
        assert agent.process is not None and agent.process.poll() is None
    finally:
        assert agent.stop() == 0
    assert "was replaced or deleted; opening it again" in agent.stderr_path.read_text()


@pytest.mark.slow
def test_a_foreign_write_to_one_delivery_neither_stops_delivery_nor_spins(
    db_path: Path, tmp_path: Path
) -> None:
    """The audit's reproduction: `attempts = 'abc'` on one waiting delivery under a running
    agent. Before, every claim raised on that row (0 of 6 shown) and every failed tick woke
    the agent at once through its own error record: ~870 failed ticks a second."""
    db = Database.open(db_path)
    enqueue(db, "victim", priority="urgent")
    db.close()
    conn = raw(db_path)
    conn.execute("INSERT INTO settings (key, value) VALUES ('burst_limit', '0')")
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        wait_for(lambda: "victim" in agent.shown(), "the victim to be shown")
        conn.execute(
            "UPDATE notification_deliveries SET status = 'queued', attempts = 'abc', "
            "next_attempt_at = '2000-01-01 00:00:00' WHERE id = 1"
        )
        db = Database.open(db_path)
        titles = [f"after {i}" for i in range(6)]
        for title in titles:
            enqueue(db, title, priority="urgent")
        db.close()
        wait_for(lambda: set(titles) <= set(agent.shown()), "the six after it")
        wait_for(lambda: delivery_of(db_path, "d.id = 1")[0] == "failed", "the victim to fail")  # type: ignore[index]
        time.sleep(2.0)  # a spinning agent writes megabytes of log meanwhile
        assert agent.process is not None and agent.process.poll() is None
    finally:
        assert agent.stop() == 0
    assert delivery_of(db_path, "d.id = 1") == (
        "failed",
        "invalid_row",
        "another program wrote attempts = 'abc'",
    )
    log = agent.stderr_path.read_text()
    assert "internal error" not in log and "Traceback" not in log
    assert log.count("delivery 1 failed") == 1, log[-2000:]
    assert len(log) < 20_000
    again = agent.once()
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_an_agent_started_while_a_producer_holds_the_lock_waits_for_it(
    db_path: Path, tmp_path: Path
) -> None:
    """At login the agent may start while a producer's long transaction holds the write
    lock past the 10 s busy timeout: it waits and says so once, instead of exiting 1."""
    db = Database.open(db_path)
    db.close()
    holder = raw(db_path)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notifications (title, priority) VALUES ('held', 'urgent')")
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        wait_for(
            lambda: "waiting for it to be free" in agent.stderr_path.read_text(),
            "the agent to say it waits",
            60,
        )
        assert agent.process is not None and agent.process.poll() is None
        holder.execute("COMMIT")
        wait_for(lambda: "held" in agent.shown(), "the notification written meanwhile")
    finally:
        assert agent.stop() == 0
    assert agent.stderr_path.read_text().count("waiting for it to be free") == 1


@pytest.mark.slow
def test_a_deleted_wal_file_is_noticed_and_nothing_in_it_is_lost(
    db_path: Path, tmp_path: Path
) -> None:
    """Someone deletes the -wal under a running agent (a cleaner, a backup tool). Before,
    producers got "disk I/O error" and after a SIGKILL the file held nothing at all."""
    db = Database.open(db_path)
    db.close()
    agent = Agent(db_path, tmp_path)
    agent.start()
    wal = db_path.with_name(db_path.name + "-wal")
    try:
        wait_for(wal.exists, "the agent to start")
        db = Database.open(db_path)
        for title in GOOD:
            enqueue(db, title, priority="urgent")
        db.close()
        raw(db_path).execute("INSERT INTO settings (key, value) VALUES ('burst_limit', '7')")
        wait_for(lambda: set(GOOD) <= set(agent.shown()), "the good notifications")
        wal.unlink()
        wait_for(
            lambda: "is open again" in agent.stderr_path.read_text(),
            "the agent to notice and open it again",
            10,  # by the file event, not the 30 s safety timer
        )
        db = Database.open(db_path)
        enqueue(db, "after", priority="urgent")
        db.close()
        wait_for(lambda: "after" in agent.shown(), "a notification written after it")
    finally:
        assert agent.process is not None
        agent.process.kill()  # no clean close: what is in the file must already be there
        agent.process.wait(timeout=30)
    conn = sqlite3.connect(db_path)
    titles = {title for (title,) in conn.execute("SELECT title FROM notifications")}
    assert titles == {*GOOD, "after"}
    assert conn.execute("SELECT value FROM settings WHERE key = 'burst_limit'").fetchall() == [
        ("7",)
    ]
    sent = conn.execute("SELECT count(*) FROM notification_deliveries WHERE status = 'sent'")
    assert sent.fetchone() == (4,)


@pytest.mark.slow
def test_a_renamed_folder_is_watched_again_where_the_database_is_now(
    db_path: Path, tmp_path: Path
) -> None:
    """The database's folder renamed under a running agent: it opens a database at its
    path again, and then wakes for it -- the watch had stayed on the renamed folder, so
    notifications waited for the 30 s safety timer."""
    db = Database.open(db_path)
    db.close()
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        # the agent settled (started, a tick done, waiting), not still opening its database
        db = Database.open(db_path)
        enqueue(db, "before the move", priority="urgent")
        db.close()
        wait_for(lambda: "before the move" in agent.shown(), "the agent to start")
        db_path.parent.rename(tmp_path / "moved-away")
        wait_for(
            lambda: "was replaced or deleted; opening it again" in agent.stderr_path.read_text(),
            "the agent to notice",
            10,
        )
        wait_for(db_path.exists, "the agent to open a database at its path", 10)
        db = Database.open(db_path)
        enqueue(db, "in the new folder", priority="urgent")
        db.close()
        wait_for(lambda: "in the new folder" in agent.shown(), "the new folder's notification", 10)
    finally:
        assert agent.stop() == 0


@pytest.mark.slow
def test_a_database_replaced_by_an_unusable_file_is_waited_out_not_spun_on(
    db_path: Path, tmp_path: Path
) -> None:
    """Another file moved over the database (a broken restore): before, the agent retried
    about 4,900 times a second, the waker comparing the file with an identity never updated.
    Now it backs off 2, 4 … s, and once a good file is back it delivers again."""
    Database.open(db_path).close()
    agent = Agent(db_path, tmp_path)
    agent.start()
    try:
        wait_for(lambda: " started (" in agent.stderr_path.read_text(), "the agent to start")
        junk = tmp_path / "junk"
        junk.write_bytes(b"this is not a database" * 100)
        junk.replace(db_path)
        wait_for(lambda: "tick failed" in agent.stderr_path.read_text(), "the first failure")
        time.sleep(3.0)  # a spinning agent writes thousands of lines meanwhile
        failures = agent.stderr_path.read_text().count("tick failed")
        assert failures <= 2, failures  # at 0 s and after the 2 s pause
        assert agent.process is not None and agent.process.poll() is None
        db_path.unlink()
        for suffix in ("-wal", "-shm"):
            db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
        db = Database.open(db_path)
        enqueue(db, "after the restore", priority="urgent")
        db.close()
        wait_for(lambda: "after the restore" in agent.shown(), "delivery once it is back", 60)
    finally:
        assert agent.stop() == 0
