from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import execute, query
from traycourier.store import Database, InvalidInput, enqueue, read_settings, write_setting

CONTRACT_DEFAULTS = {
    "enable_notifications": True,
    "min_priority": "info",  # a title-only INSERT is shown (issue 26; "action" before)
    "paused_until": None,
    "max_age_seconds": 86400,
    "burst_limit": 3,
}

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(any_db: Database) -> Database:
    """Every test here runs on a SQLite file and on a PostgreSQL server."""
    return any_db


def test_defaults_when_nothing_is_stored(db: Database) -> None:
    current = read_settings(db)
    assert {k: getattr(current, k) for k in CONTRACT_DEFAULTS} == CONTRACT_DEFAULTS


def test_written_values_are_json_any_process_can_read(db: Database) -> None:
    write_setting(db, "min_priority", "urgent", NOW)
    write_setting(db, "enable_notifications", False, NOW)
    assert read_settings(db).min_priority == "urgent"
    assert read_settings(db).enable_notifications is False
    rows = dict(query(db, "SELECT key, value FROM settings"))
    assert rows == {"min_priority": '"urgent"', "enable_notifications": "false"}


def test_invalid_value_writes_nothing(db: Database) -> None:
    with pytest.raises(InvalidInput):
        write_setting(db, "burst_limit", -2, NOW)
    assert query(db, "SELECT count(*) FROM settings") == [(0,)]


def test_a_value_broken_by_a_foreign_writer_falls_back_to_its_default(db: Database) -> None:
    execute(db, "INSERT INTO settings(key, value) VALUES ('burst_limit', '\"lots\"')")
    execute(db, "INSERT INTO settings(key, value) VALUES ('min_priority', '\"urgent\"')")
    current = read_settings(db)
    assert current.burst_limit == CONTRACT_DEFAULTS["burst_limit"]
    assert current.min_priority == "urgent"


@pytest.mark.parametrize(
    ("settings", "priority", "withheld"),
    [
        ({}, "info", None),  # the default minimum shows everything
        ({"min_priority": "action"}, "info", "min_priority"),
        ({"enable_notifications": False}, "urgent", "disabled"),
        ({"enable_notifications": False, "min_priority": "action"}, "info", "min_priority"),
        ({"paused_until": "2999-01-01 00:00:00"}, "urgent", "paused"),
        ({"paused_until": "2000-01-01 00:00:00"}, "urgent", None),  # a pause that ended
    ],
)
def test_enqueue_says_when_the_settings_keep_a_notification_from_showing(
    db: Database, settings: dict[str, object], priority: str, withheld: str | None
) -> None:
    for key, value in settings.items():
        write_setting(db, key, value, datetime(2026, 11, 29, tzinfo=UTC))
    result = enqueue(db, "t", priority=priority)
    assert result.withheld == withheld
    assert (result.paused_until is not None) is (withheld == "paused")
