"""Following ReverbCode's `ao.db`: a true file (tests/aodb.py) and a real runtime tick; the
row a producer reads back there, and what the notifier was asked to show here."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import aodb
from tests.conftest import query, refuse_insert, wait_for
from tests.fakes import Shown
from tests.store.test_hostile_property import SQLITE_VALUE
from traycourier.agent.engine import controls
from traycourier.agent.engine import sources as agent_sources
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.store import (
    Database,
    InvalidInput,
    StoreError,
    deliveries,
    enqueue,
    sources,
    timestamps,
)
from traycourier.store.answers import mark_read
from traycourier.store.model import DELIVERY_STATUSES


def follow(db: Database, ao: Path, **options: object) -> None:
    agent_sources.follow(db, "reverbcode", str(ao), timestamps.utcnow(), **options)  # type: ignore[arg-type]


def agent(db: Database, owner: str = "a1") -> tuple[Runtime, Shown]:
    shown = Shown()
    runtime = Runtime(db, shown, RuntimeConfig(owner=owner))  # type: ignore[arg-type]
    runtime.start()
    return runtime, shown


@pytest.fixture
def ao(tmp_path: Path) -> Path:
    return aodb.build(tmp_path / "ao" / "ao.db", projects=("acme-app", "web"))


def test_new_rows_are_shown_once_mapped_as_documented(any_db: Database, ao: Path) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    pr = aodb.create(ao)
    # an hour ago in India, written as Go writes it there (the row must stay younger than
    # max_age_seconds whenever the test runs: a fixed date went stale a day after it was set)
    asked = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=278156)
    ask = aodb.create(
        ao, "needs_input", title="fix-login needs input", body="Which branch?", pr_url=None,
        project="web", when=asked.astimezone(aodb.EAST), zone="IST",
    )  # fmt: skip
    runtime, shown = agent(db)
    runtime.tick()
    assert sorted(shown.titles) == ["acme-app: acme/app#7 is ready to merge",
                                    "web: fix-login needs input"]  # fmt: skip
    rows = query(
        db,
        "SELECT dedupe_key, title, message, priority, source, kind, actions_json, created_at "
        "FROM notifications ORDER BY dedupe_key",
    )
    assert sorted(rows) == sorted([
        (f"reverbcode:{pr}", "acme/app#7 is ready to merge", "All checks passed.", "action",
         "acme-app", "ready_to_merge",
         '[{"label": "Open pull request", "url": "https://github.com/acme/app/pull/7"}]',
         rows[0][7] if rows[0][0].endswith(pr) else rows[1][7]),
        (f"reverbcode:{ask}", "fix-login needs input", "Which branch?", "urgent", "web",
         "needs_input", "[]", asked.strftime("%Y-%m-%d %H:%M:%S.278156")),
    ])  # fmt: skip
    runtime.tick()  # nothing new: nothing shown again
    runtime2, shown2 = agent(db, "a2")  # a second agent, or a restart
    runtime2.tick()
    assert len(shown.titles) == 2 and shown2.titles == []
    assert query(db, "SELECT count(*) FROM notifications") == [(2,)]


def test_a_row_the_database_refuses_to_import_stops_no_other(
    any_db: Database, ao: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The import runs in the routing transaction: a row refused there is left out alone
    (logged with its key), and the row beside it and the agent's own are still shown."""
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    refuse_insert(db, "picky", "notifications", "NEW.title = 'refused'", "not this one")
    bad = aodb.create(ao, title="refused", pr_url="https://x.example/1")
    aodb.create(ao, title="fine", pr_url="https://x.example/2")
    enqueue(db, "own", priority="urgent")
    runtime, shown = agent(db)
    runtime.tick()
    assert sorted(shown.titles) == ["acme-app: fine", "own"]
    assert f"reverbcode:{bad} cannot be imported: not this one" in caplog.text
    assert aodb.status(ao, bad) == "unread"


def test_rows_read_by_a_tick_that_failed_are_imported_by_the_next(
    db: Database, ao: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row is read there once; if the tick fails before its routing commits, the next
    tick still brings it (the follower hands it over until it landed)."""
    follow(db, ao)
    runtime, shown = agent(db)
    runtime.tick()
    aodb.create(ao, title="survives")
    real = deliveries.route_batch

    def failing(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(deliveries, "route_batch", real)
        raise StoreError("database is locked")

    monkeypatch.setattr(deliveries, "route_batch", failing)
    with pytest.raises(StoreError):
        runtime.tick()
    assert shown.titles == [] and query(db, "SELECT count(*) FROM notifications") == [(0,)]
    runtime.tick()  # nothing changed in ao.db since
    assert shown.titles == ["acme-app: survives"]


def test_a_row_unread_again_or_at_a_reused_rowid_is_still_imported(db: Database, ao: Path) -> None:
    """A look reads whole only the rows above the last rowid it saw; a row unread there
    again below it (a hand's UPDATE), or a new row at the rowid of a deleted one, is read
    by its id and shown all the same."""
    follow(db, ao)
    runtime, shown = agent(db)
    first = aodb.create(ao, title="first", pr_url="https://x.example/1")
    last = aodb.create(ao, title="last", pr_url="https://x.example/2")
    runtime.tick()
    assert sorted(shown.titles) == ["acme-app: first", "acme-app: last"]
    with sqlite3.connect(ao) as conn:
        conn.execute("UPDATE notifications SET status = 'read' WHERE id = ?", (first,))
        conn.execute("DELETE FROM notifications WHERE id = ?", (last,))
    runtime.tick()
    with sqlite3.connect(ao) as conn:  # the same rowid as `last`, below what the look saw
        conn.execute(
            "INSERT INTO notifications (rowid, id, session_id, project_id, pr_url, type, title, "
            "created_at) VALUES (2, 'ntf_reused', 'acme-app-s1', 'acme-app', "
            "'https://x.example/3', 'ready_to_merge', 'reused', ?)",
            (aodb.go_time(datetime.now(UTC)),),
        )
        conn.execute("UPDATE notifications SET status = 'unread' WHERE id = ?", (first,))
    runtime.tick()
    assert shown.titles[2:] == ["acme-app: reused"]
    assert query(db, "SELECT count(*) FROM notifications") == [(3,)]


def test_read_here_is_written_back_and_read_there_is_never_shown(
    any_db: Database, ao: Path
) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    first = aodb.create(ao)
    runtime, shown = agent(db)
    runtime.tick()
    (ntf,) = query(
        db, "SELECT id FROM notifications WHERE dedupe_key = :k", k=f"reverbcode:{first}"
    )[0]
    mark_read(db, (ntf,), timestamps.utcnow())  # a click on the popup
    runtime.tick()
    assert aodb.status(ao, first) == "read"
    later = aodb.create(ao, "pr_merged", title="acme/app#8 was merged",
                        pr_url="https://github.com/acme/app/pull/8")  # fmt: skip
    runtime.tick()
    second = aodb.create(ao, "pr_closed_unmerged", title="closed", pr_url="https://x.example/9")
    aodb.mark_read(ao, second)  # read in the dashboard before any agent saw it
    aodb.mark_read(ao, later)
    runtime.tick()
    assert "closed" not in " ".join(shown.titles)
    got = query(
        db, "SELECT read_at IS NOT NULL FROM notifications WHERE dedupe_key = :k",
        k=f"reverbcode:{later}",
    )  # fmt: skip
    assert got == [(1,)]
    assert query(db, "SELECT count(*) FROM notifications WHERE dedupe_key = :k",
                 k=f"reverbcode:{second}") == [(0,)]  # fmt: skip


def test_a_waiting_row_read_there_is_skipped_with_its_reason(any_db: Database, ao: Path) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    enqueue(db, "mine", priority="urgent")
    controls.pause_for(db, 60, timestamps.utcnow())  # the user paused: everything waits
    waiting = aodb.create(ao)
    runtime, shown = agent(db)
    runtime.tick()
    aodb.mark_read(ao, waiting)
    runtime.tick()
    rows = query(
        db,
        "SELECT d.status, d.last_error_code, d.last_error FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id WHERE n.dedupe_key = :k",
        k=f"reverbcode:{waiting}",
    )
    assert rows == [("skipped", "read_elsewhere", "read in reverbcode first")]
    assert shown.titles == []


def test_an_old_backlog_is_recorded_stale_not_shown(db: Database, ao: Path) -> None:
    old = datetime.now(UTC) - timedelta(days=3)
    backlog = [aodb.create(ao, "ready_to_merge", title=f"old {i}", pr_url=f"https://x.example/{i}",
                           when=old) for i in range(5)]  # fmt: skip
    follow(db, ao)
    runtime, shown = agent(db)
    runtime.tick()
    assert shown.titles == []
    assert query(db, "SELECT status, last_error_code, count(*) FROM notification_deliveries "
                 "GROUP BY 1, 2") == [("skipped", "stale", len(backlog))]  # fmt: skip


def test_add_refuses_what_is_not_reverbcode_and_creates_nothing(
    db: Database, tmp_path: Path
) -> None:
    missing = tmp_path / "none" / "ao.db"
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notifications (id, title)").connection.close()
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for path, said in ((missing, "does not exist"), (other, "no ReverbCode notifications table"),
                       (text, "not a SQLite database"), (db.path, "no ReverbCode")):  # fmt: skip
        with pytest.raises(InvalidInput, match=said):
            follow(db, path)  # type: ignore[arg-type]
    assert not missing.exists() and not missing.parent.exists()
    assert sources.listed(db) == []


def test_options_change_priorities_and_add_a_session_link(any_db: Database, ao: Path) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao, priorities={"pr_merged": "warning"},
           session_url="http://localhost:3001/sessions/{session_id}")  # fmt: skip
    aodb.create(ao, "pr_merged", title="merged", pr_url="https://x.example/1")
    aodb.create(ao, "needs_input", title="asks", pr_url=None)
    runtime, _ = agent(db)
    runtime.tick()
    assert sorted(query(db, "SELECT title, priority, actions_json FROM notifications")) == [
        ("asks", "urgent",
         '[{"label": "Open session", "url": "http://localhost:3001/sessions/acme-app-s1"}]'),
        ("merged", "warning", '[{"label": "View merged pull request", "url": "https://x.example/1"}]'),
    ]  # fmt: skip
    with pytest.raises(InvalidInput, match="session_id"):
        follow(db, ao, session_url="javascript:alert(1)")


def test_faults_are_one_warning_a_recorded_problem_and_own_delivery_goes_on(
    any_db: Database, ao: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    before = aodb.schema_of(ao)
    clock = [datetime.now(UTC)]
    shown = Shown()
    runtime = Runtime(db, shown, RuntimeConfig(owner="f"), clock=lambda: clock[0])  # type: ignore[arg-type]
    runtime.start()
    runtime.tick()
    aside = ao.with_name("moved.db")
    caplog.set_level(logging.INFO)
    for fault, undo in (
        (lambda: ao.rename(aside), lambda: aside.rename(ao)),
        (lambda: (ao.rename(aside), ao.write_text("not sqlite")), lambda: aside.replace(ao)),
        (lambda: _drop_column(ao, "created_at"), None),
    ):
        caplog.clear()
        fault()
        for _ in range(4):  # retried with backoff: a few ticks, a minute apart
            enqueue(db, f"own {len(shown.titles)}", priority="urgent")
            runtime.tick()
            clock[0] += timedelta(seconds=61)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        (listed,) = sources.listed(db)
        assert listed.problem and str(ao) in listed.problem
        assert runtime.next_wake_s() <= 61
        if undo is not None:
            undo()
            runtime.tick()
            (listed,) = sources.listed(db)
            assert listed.problem is None
    assert [t for t in shown.titles if t.startswith("own")] == [f"own {i}" for i in range(12)]
    assert "created_at" in (sources.listed(db)[0].problem or "")
    assert aodb.schema_of(aside if aside.exists() else ao) != before  # we dropped it, not it


def _drop_column(path: Path, column: str) -> None:
    """A newer ReverbCode release that renamed a column."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX idx_notifications_status_created")
    conn.execute(f"ALTER TABLE notifications RENAME COLUMN {column} TO {column}_v2")
    conn.close()


def test_the_file_is_never_changed_but_for_the_read_mark(db: Database, ao: Path) -> None:
    follow(db, ao)
    before = aodb.schema_of(ao)
    rows = [aodb.create(ao, "ready_to_merge", title=str(i), pr_url=f"https://x.example/{i}")
            for i in range(3)]  # fmt: skip
    runtime, _ = agent(db)
    runtime.tick()
    ids = [r[0] for r in query(db, "SELECT id FROM notifications")]
    mark_read(db, tuple(ids), timestamps.utcnow())
    runtime.tick()
    assert aodb.schema_of(ao) == before
    assert [aodb.status(ao, r) for r in rows] == ["read"] * 3
    with sqlite3.connect(ao) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
        assert conn.execute("SELECT max(version_id) FROM goose_db_version").fetchone() == (19,)


HOSTILE_COLUMNS = ("id", "type", "title", "body", "pr_url", "project_id", "session_id",
                   "status", "created_at")  # fmt: skip


@settings(
    max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(row=st.fixed_dictionaries({}, optional={c: SQLITE_VALUE for c in HOSTILE_COLUMNS}))
def test_no_value_in_a_followed_row_stops_a_tick(tmp_path_factory: pytest.TempPathFactory,
                                                 row: dict[str, object]) -> None:  # fmt: skip
    """A release (or a hand) that wrote anything, in any SQLite type, into any column: the
    tick raises nothing, our own notifications are shown, a row with a text id is imported
    once and ends in a recorded state, and the source keeps being followed."""
    scratch = tmp_path_factory.mktemp("prop")
    ao = scratch / "ao.db"
    conn = sqlite3.connect(ao, isolation_level=None)  # no checks, no NOT NULL: anything goes
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"CREATE TABLE notifications ({', '.join(HOSTILE_COLUMNS)})")
    values = {"status": "unread", **row}
    conn.execute(
        f"INSERT INTO notifications ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        tuple(values.values()),
    )
    conn.close()
    with Database.open(scratch / "tc.db") as db:
        follow(db, ao)
        enqueue(db, "own", priority="urgent")
        runtime, shown = agent(db)
        runtime.tick()
        runtime.tick()
        assert "own" in shown.titles
        (listed,) = sources.listed(db)
        assert listed.problem is None, listed.problem
        imported = query(db, "SELECT count(*) FROM notifications WHERE dedupe_key IS NOT NULL")
        usable = (
            values["status"] == "unread"
            and isinstance(values.get("id"), str)
            and (len(str(values["id"]).strip()) > 0 and len(str(values["id"])) <= 200)
        )
        assert imported == [(1 if usable else 0,)]
        statuses = query(db, "SELECT status FROM notification_deliveries")
        assert {s for (s,) in statuses} <= set(DELIVERY_STATUSES) - {"leased", "queued"}


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_doctor_names_the_source_and_the_fix(db: Database, ao: Path, tmp_path: Path) -> None:
    follow(db, ao)
    shutil.move(ao, tmp_path / "elsewhere.db")
    lines = agent_sources.doctor_lines(db)
    assert lines == [("source reverbcode", "warn", f"{ao} does not exist",
                      "start ReverbCode, or `source add` its ao.db again")]  # fmt: skip


def test_a_commit_in_ao_db_wakes_the_waiting_agent(any_db: Database, ao: Path) -> None:
    """No polling: the loop waits an hour for its own work, and a row ReverbCode commits
    (a write to ao.db's -wal) wakes it at once, on either backend's waker."""
    db = any_db  # a SQLite file and a PostgreSQL server
    follow(db, ao)
    runtime, shown = agent(db)
    waker = db.listen()
    loop = AgentLoop(runtime, waker)
    ticks = []
    loop.on_tick = ticks.append
    runtime.next_wake_s = lambda: 3600.0  # type: ignore[method-assign]
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    try:
        wait_for(lambda: len(ticks) >= 1, "the first tick")
        threading.Event().wait(0.5)  # the loop is in its hour-long wait now
        aodb.create(ao, title="wake up")
        wait_for(lambda: shown.titles == ["acme-app: wake up"], "the row shown")
    finally:
        runtime.stop.set()
        waker.poke()
        worker.join(timeout=60)
        waker.close()


def test_a_commit_that_shows_after_its_event_still_wakes(db: Database, ao: Path) -> None:
    """A commit's writes (and their events) come before the commit shows: when a tick
    began between the two, the event is spent and only asking the file finds the commit.
    The waker asks at every wait, so this one returns at once, without any event."""
    waker = db.listen()
    try:
        waker.follow((ao,), lambda: True)  # a commit the last tick did not see
        assert waker.wait(2.0, threading.Event()) is True
        waker.follow((ao,), lambda: False)
        assert waker.wait(0.3, threading.Event()) is False
    finally:
        waker.close()
