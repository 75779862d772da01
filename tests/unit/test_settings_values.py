"""Settings parsing and validation: pure, table-driven, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from traycourier.store import InvalidInput, Settings
from traycourier.store.settings import parse_text, validate

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("enable_notifications", "true", True),
        ("enable_notifications", "OFF", False),
        ("enable_notifications", "0", False),
        ("min_priority", "Urgent", "urgent"),
        ("min_priority", "info", "info"),
        ("paused_until", "30m", "2026-11-28 12:30:00.000000"),
        ("paused_until", "2h", "2026-11-28 14:00:00.000000"),
        ("paused_until", "1d", "2026-11-29 12:00:00.000000"),
        ("paused_until", "2026-12-01T08:00:00+01:00", "2026-12-01 07:00:00.000000"),
        ("paused_until", "off", None),
        ("max_age_seconds", "3600", 3600),
        ("max_age_seconds", "0", 0),
        ("burst_limit", "5", 5),
    ],
)
def test_parse_text_accepts(key: str, text: str, expected: object) -> None:
    assert parse_text(key, text, NOW) == expected


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("enable_notifications", "maybe", "true or false"),
        ("min_priority", "critical", "one of urgent, action, warning, info"),
        ("paused_until", "tomorrowish", "30m, 2h, an ISO time or off"),
        ("paused_until", "30x", "30m, 2h"),
        ("max_age_seconds", "-1", "from 0 to 3153600000"),
        ("max_age_seconds", "100000000000000", "from 0 to 3153600000"),
        ("max_age_seconds", "9" * 5000, "whole number"),
        ("burst_limit", "3.5", "whole number"),
        ("burst_limit", "10001", "from 0 to 10000"),
        ("paused_until", "99999999d", "too far away|between 1970-01-02 and 9999-12-30"),
        ("paused_until", "9" * 5000 + "d", "30m, 2h"),
        ("paused_until", "0001-01-01T00:00:00+05:00", "too far away|between"),
        ("paused_until", "9999-12-31T23:59:59-05:00", "too far away|between"),
        ("paused_until", "1969-12-31T00:00:00Z", "between 1970-01-02 and 9999-12-30"),
        ("volume", "11", "unknown setting 'volume'"),
    ],
)
def test_parse_text_rejects(key: str, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_text(key, text, NOW)


def test_a_local_wall_clock_time_is_stored_as_utc() -> None:
    local = datetime(2026, 12, 1, 8, 0).astimezone()
    stored = parse_text("paused_until", "2026-12-01T08:00:00", NOW)
    assert stored == local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("enable_notifications", 1),
        ("burst_limit", True),
        ("burst_limit", "3"),
        ("burst_limit", 10**30),
        ("min_priority", 2),
        ("paused_until", 1700000000),
        ("paused_until", "0001-01-01T00:00:00+05:00"),
        ("paused_until", "9999-12-31T23:59:59Z"),
    ],
)
def test_validate_rejects_wrong_types(key: str, value: object) -> None:
    """What another program stored is checked the same way as what the CLI was given."""
    with pytest.raises(InvalidInput):
        validate(key, value)


def test_paused_is_a_comparison_with_now() -> None:
    assert Settings(paused_until="2026-11-28 12:30:00").is_paused(NOW)
    assert not Settings(paused_until="2026-11-28 11:59:59").is_paused(NOW)
    assert not Settings().is_paused(NOW)
