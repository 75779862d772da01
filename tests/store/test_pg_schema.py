"""The schema on a PostgreSQL server: the same columns, defaults and constraints a producer
relies on, the version gate, another program's tables refused, and agents that start
together migrating once."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import inspect

from tests.pgserver import psycopg
from traycourier.store import (
    LATEST_VERSION,
    CorruptDatabase,
    Database,
    SchemaTooNew,
    schema,
)


def test_the_table_definitions_match_the_migrated_server(pg_url: str) -> None:
    db = Database.open(pg_url)
    try:
        inspector = inspect(db.engine)
        for table in schema.metadata.sorted_tables:
            on_server = {c["name"] for c in inspector.get_columns(table.name)}
            assert on_server == set(table.c.keys()), table.name
        assert db.schema_version() == LATEST_VERSION
    finally:
        db.close()


def test_a_producer_gives_only_a_title_and_gets_the_files_defaults(pg_url: str) -> None:
    Database.open(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO notifications (title) VALUES ('build finished')")
        row = conn.execute(
            "SELECT id, message, priority, source, kind, payload_json, actions_json, "
            "dedupe_key, created_at, routed_at FROM notifications"
        ).fetchone()
    assert row is not None
    assert re.fullmatch(r"ntf_[0-9a-f]{16}", row[0])
    assert row[1:8] == ("", "info", "", "", "{}", "[]", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", row[8])  # UTC text
    assert row[9] is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("priority", "critical"),
        ("payload_json", "{not json"),
        ("actions_json", "[broken"),
        ("actions_json", '{"label": "not a list"}'),
    ],
)
def test_the_same_checks_reject_bad_rows(pg_url: str, column: str, value: str) -> None:
    Database.open(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(f"INSERT INTO notifications (title, {column}) VALUES ('x', %s)", [value])
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM notifications").fetchone() == (0,)


def test_a_newer_schema_is_refused_and_left_alone(pg_url: str) -> None:
    Database.open(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE traycourier_schema SET version = %s", [LATEST_VERSION + 1])
    with pytest.raises(SchemaTooNew, match=f"schema version {LATEST_VERSION + 1}"):
        Database.open(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM traycourier_schema").fetchone() == (
            LATEST_VERSION + 1,
        )


def test_another_programs_tables_are_refused_and_never_written(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE notifications (what TEXT)")
    with pytest.raises(CorruptDatabase, match="another program's tables"):
        Database.open(pg_url)
    with psycopg.connect(pg_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert found == (1,)  # nothing added beside it


def test_agents_starting_together_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Database.open(pg_url).close()
        except BaseException as err:  # collected: the test fails on any
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), max(version) FROM traycourier_schema").fetchone() == (
            1,
            LATEST_VERSION,
        )


def test_an_agent_that_starts_while_another_commits_its_migration_is_not_refused(
    pg_url: str,
) -> None:
    """The race CI met with two agents starting on one empty server: the second looked for
    the version table (none yet), the first committed, and the second then found the first's
    tables and refused them as another program's. Here the first commits at exactly that
    moment, every time."""
    from sqlalchemy import Engine, event

    from traycourier.store import pg
    from traycourier.store.migrations_pg import PG_MIGRATIONS

    first = pg.engine_for(pg_url)
    migrating = first.connect()
    transaction = migrating.begin()
    pg.migrate(migrating, PG_MIGRATIONS, LATEST_VERSION)  # created, not yet committed

    def commit_the_first(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "information_schema.tables" in statement and transaction.is_active:
            transaction.commit()

    event.listen(Engine, "before_cursor_execute", commit_the_first)
    try:
        Database.open(pg_url).close()
    finally:
        event.remove(Engine, "before_cursor_execute", commit_the_first)
        migrating.close()
        first.dispose()
    assert not transaction.is_active  # the moment came
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), max(version) FROM traycourier_schema").fetchone() == (
            1,
            LATEST_VERSION,
        )


def test_a_read_on_a_server_is_one_snapshot(pg_url: str) -> None:
    from sqlalchemy import text

    db = Database.open(pg_url)
    try:
        with db.read() as conn, psycopg.connect(pg_url, autocommit=True) as other:
            before = conn.execute(text("SELECT count(*) FROM notifications")).scalar_one()
            other.execute("INSERT INTO notifications (title) VALUES ('meanwhile')")
            after = conn.execute(text("SELECT count(*) FROM notifications")).scalar_one()
        assert (before, after) == (0, 0)
    finally:
        db.close()
