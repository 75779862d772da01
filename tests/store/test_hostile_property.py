"""Property: whatever another program writes, in any SQLite type (or, on PostgreSQL, any text
the server accepts), into any column a producer may write and into any settings key, a tick
raises nothing, every delivery ends in a state of the contract, the good notifications
beside it are shown (when the settings let anything be shown), and the CLI and the tray can
still read the database."""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import query, run_in_process
from tests.fakes import NoWaker, Shown
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.policy import tray_model
from traycourier.agent.tray.app import TrayApp
from traycourier.store import Database, enqueue, read_settings, timestamps
from traycourier.store.choices import DEFAULTS
from traycourier.store.model import DELIVERY_STATUSES

NOTIFICATION_COLUMNS = (
    "id",
    "title",
    "message",
    "priority",
    "source",
    "kind",
    "payload_json",
    "actions_json",
    "dedupe_key",
    "created_at",
    "read_at",
    "archived_at",
)
SETTINGS_KEYS = (*DEFAULTS, "volume")
GOOD = ("good one", "good two", "good three")

NASTY_TEXT = st.sampled_from(
    [
        "",
        "urgent",
        "bogus",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "2026-11-28 12:00:00",
        "[",
        '[{"label": "x", "url": "file:///etc/passwd"}]',
        '"9999-12-31T23:59:59Z"',
        "100000000000000",
        "-1",
        "true",
        "null",
        "<b>&amp;</b>\x1b[31m\u202e",
        "x" * 5000,
        "[" * 2040 + "]" * 2040,  # valid JSON, deeper than Python's json reads
        "1733461234",  # seconds since 1970, as a TEXT column keeps them
    ]
)
SQLITE_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.binary(max_size=40),
    NASTY_TEXT,
)


def write_hostile(path: Path, row: dict[str, object], stored: dict[str, object]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA ignore_check_constraints = 1")
    if row:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(
            f"INSERT OR IGNORE INTO notifications ({columns}) VALUES ({marks})",
            tuple(row.values()),
        )
    for key, value in stored.items():
        conn.execute(
            "INSERT OR IGNORE INTO settings(key, value) VALUES (?, ?)",
            (key, value),
        )
    conn.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    row=st.dictionaries(st.sampled_from(NOTIFICATION_COLUMNS), SQLITE_VALUE, max_size=6),
    stored=st.dictionaries(st.sampled_from(SETTINGS_KEYS), SQLITE_VALUE, max_size=3),
)
@example(row={"title": "deep", "actions_json": "[" * 2040 + "]" * 2040}, stored={})
@example(row={"title": "epoch", "created_at": "1733461234", "priority": "urgent"}, stored={})
def test_no_value_stops_a_tick(row: dict[str, object], stored: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tc.db"
        db = Database.open(path)
        try:
            write_hostile(path, row, stored)
            _two_ticks_and_check(db)
        finally:
            db.close()


PG_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
    NASTY_TEXT,
)  # fmt: skip
"""What a PostgreSQL text column can be given: anything, as its text (a NUL byte, a JSON
check it breaks, a NULL in a NOT NULL column: the server refuses the producer's INSERT)."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    row=st.dictionaries(st.sampled_from(NOTIFICATION_COLUMNS), PG_VALUE, max_size=6),
    stored=st.dictionaries(st.sampled_from(SETTINGS_KEYS), PG_VALUE, max_size=3),
)
def test_no_value_stops_a_tick_on_postgresql(
    pg_url: str, row: dict[str, object], stored: dict[str, object]
) -> None:
    import psycopg

    db = Database.open(pg_url)
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE notifications, notification_deliveries, "
                "notification_delivery_attempts, settings, agents CASCADE"
            )
            as_text = {k: None if v is None else str(v) for k, v in row.items()}
            if as_text:
                columns, marks = ", ".join(as_text), ", ".join("%s" for _ in as_text)
                sql = (
                    f"INSERT INTO notifications ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
                )
                _refusable(conn, sql, list(as_text.values()))
            for key, value in stored.items():
                sql = "INSERT INTO settings (key, value) VALUES (%s, %s) ON CONFLICT DO NOTHING"
                _refusable(conn, sql, [key, None if value is None else str(value)])
        _two_ticks_and_check(db)
    finally:
        db.close()


def _refusable(conn: object, sql: str, values: list[object]) -> None:
    """A producer's INSERT the server may refuse (its types and checks hold)."""
    import psycopg

    with contextlib.suppress(psycopg.Error):
        conn.execute(sql, values)  # type: ignore[attr-defined]


def _two_ticks_and_check(db: Database) -> None:
    """The good ones are enqueued beside the hostile row; two ticks run; then `_check`."""
    for title in GOOD:
        enqueue(db, title, priority="urgent")
    notifier = Shown()
    runtime = Runtime(db, notifier, RuntimeConfig(owner="prop"))  # type: ignore[arg-type]
    runtime.start()
    runtime.tick()
    runtime.tick()
    _check(db, notifier)


def _check(db: Database, notifier: Shown) -> None:
    now = timestamps.utcnow()
    found = query(db, "SELECT DISTINCT status FROM notification_deliveries")
    statuses = {s for (s,) in found}
    assert statuses <= set(DELIVERY_STATUSES) - {"leased"}
    unrouted = query(db, "SELECT count(*) FROM notifications WHERE routed_at IS NULL")
    assert unrouted == [(0,)], "a row was left unrouted"
    current = read_settings(db)
    if current.enable_notifications and not current.is_paused(now):
        good = query(
            db,
            "SELECT n.title, d.status FROM notifications n JOIN notification_deliveries d "
            "ON d.notification_id = n.id WHERE n.title IN (:a, :b, :c) ORDER BY n.seq",
            a=GOOD[0],
            b=GOOD[1],
            c=GOOD[2],
        )
        assert good == [(title, "sent") for title in GOOD]
        assert notifier.titles, "nothing reached the notifier"
    # the CLI and the tray still read the file
    for command in (["status"], ["deliveries", "--json"], ["settings", "get"]):
        result = run_in_process(*command, db=db.path or db.url)
        assert result.code == 0, result.stderr
    runtime = Runtime(db, Shown(), RuntimeConfig(owner="tray"))  # type: ignore[arg-type]
    app = TrayApp(db, AgentLoop(runtime, NoWaker()))  # type: ignore[arg-type]
    state = app.load_state()
    tray_model.build_menu(state, now)
    tray_model.tooltip(state, now)


AGENT_COLUMNS = (
    "attempts",
    "max_attempts",
    "rank",
    "next_attempt_at",
    "lease_owner",
    "lease_expires_at",
    "attempt_started_at",
    "destination_key",
    "last_error_code",
    "last_error",
    "external_id",
    "delivered_at",
    "snoozed_until",
    "created_at",
    "updated_at",
)
"""What the agent itself writes into a delivery, and another program may overwrite."""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    status=st.sampled_from(["queued", "retry_wait", "leased", "sent", "failed"]),
    changed=st.dictionaries(st.sampled_from(AGENT_COLUMNS), SQLITE_VALUE, min_size=1, max_size=4),
)
@example(status="queued", changed={"attempts": "abc"})
@example(status="leased", changed={"lease_expires_at": None})
def test_no_value_in_an_agent_column_stops_a_tick(status: str, changed: dict[str, object]) -> None:
    """Another program overwrites the agent's own columns of one delivery (the audit's
    `attempts = 'abc'` stopped every claim): each tick still raises nothing, the good ones are
    shown, every state is the contract's, and the agent settles -- nothing left due."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tc.db"
        db = Database.open(path)
        try:

            def overwrite(sets: str, values: tuple[object, ...]) -> None:
                conn = sqlite3.connect(path, isolation_level=None)
                conn.execute("PRAGMA ignore_check_constraints = 1")
                with contextlib.suppress(sqlite3.IntegrityError):  # NOT NULL holds: refused
                    conn.execute(f"UPDATE notification_deliveries SET {sets} WHERE id = 1", values)
                conn.close()

            _overwrite_and_settle(db, status, changed, overwrite)
        finally:
            db.close()


PG_AGENT_COLUMNS = tuple(c for c in AGENT_COLUMNS if c not in ("attempts", "max_attempts", "rank"))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    status=st.sampled_from(["queued", "retry_wait", "leased", "sent", "failed"]),
    changed=st.dictionaries(st.sampled_from(PG_AGENT_COLUMNS), PG_VALUE, min_size=1, max_size=4),
)
@example(status="queued", changed={"next_attempt_at": None})
def test_no_value_in_an_agent_column_stops_a_tick_on_postgresql(
    pg_url: str, status: str, changed: dict[str, object]
) -> None:
    """The same where a server's types let another program write (its text columns)."""
    import psycopg

    db = Database.open(pg_url)
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE notifications, notification_deliveries, "
                "notification_delivery_attempts, settings, agents CASCADE"
            )
            conn.execute("ALTER SEQUENCE notification_deliveries_id_seq RESTART")

        def overwrite(sets: str, values: tuple[object, ...]) -> None:
            as_text = tuple(None if v is None else str(v) for v in values)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                _refusable(
                    conn,
                    f"UPDATE notification_deliveries SET {sets.replace('?', '%s')} WHERE id = 1",
                    list(as_text),
                )

        _overwrite_and_settle(db, status, changed, overwrite)
    finally:
        db.close()


def _overwrite_and_settle(
    db: Database,
    status: str,
    changed: dict[str, object],
    overwrite: Callable[[str, tuple[object, ...]], None],
) -> None:
    enqueue(db, "victim", priority="urgent")
    moments = iter(timestamps.utcnow() + timedelta(minutes=10 * n) for n in range(100))
    now = [next(moments)]
    runtime = Runtime(db, Shown(), RuntimeConfig(owner="prop"), clock=lambda: now[0])  # type: ignore[arg-type]
    runtime.start()
    runtime.tick()  # the victim's delivery exists (and was shown)
    sets = ", ".join(f"{column} = ?" for column in changed)
    overwrite(f"status = ?, {sets}", (status, *changed.values()))
    for title in GOOD:
        enqueue(db, title, priority="urgent")
    notifier = Shown()
    runtime.notifier = notifier
    runtime.rounds.attempts = replace(runtime.rounds.attempts, notifier=notifier)
    for _ in range(6):  # ten minutes apart: past every backoff and lease
        now[0] = next(moments)
        runtime.tick()
    assert sorted(t for t in notifier.titles if t != "victim") == sorted(GOOD)
    assert runtime.next_wake_s() > 0, "something stays due: the agent would spin"
    _check(db, notifier)
