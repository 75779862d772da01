"""Settings parsing and validation: pure, table-driven, no database."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from traycourier.store import InvalidInput, Settings
from traycourier.store.settings import parse_text, parse_until, validate

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("enable_notifications", "true", True),
        ("enable_notifications", "OFF", False),
        ("enable_notifications", "0", False),
        ("min_priority", "Urgent", "urgent"),
        ("min_priority", "info", "info"),
        ("tray_icon", "White", "white"),
        ("burst_window_seconds", "300", 300),
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
        ("tray_icon", "green", "one of color, white, black"),
        ("burst_window_seconds", "86401", "from 0 to 86400"),
        ("paused_until", "tomorrowish", "30m, 2h, 08:00, an ISO time or off"),
        ("paused_until", "2026-11-28T11:00:00Z", "already past"),
        ("paused_until", "24:00", "30m, 2h, 08:00"),
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


@pytest.mark.parametrize(
    ("zone", "now", "typed", "expected_utc"),
    [
        ("UTC", "2026-11-28 12:00", "08:00", "2026-11-29 08:00"),  # past today: tomorrow's
        ("UTC", "2026-11-28 07:59", "08:00", "2026-11-28 08:00"),  # still ahead: today's
        ("UTC", "2026-11-28 08:00", "8:00", "2026-11-29 08:00"),  # this very minute: next
        ("Pacific/Auckland", "2026-11-28 12:00", "08:00", "2026-11-28 19:00"),  # NZDT +13
        ("America/New_York", "2026-07-01 12:00", "09:00", "2026-07-01 13:00"),  # EDT -4
    ],
)
def test_hh_mm_is_the_next_such_local_time(
    zone: str, now: str, typed: str, expected_utc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mute ci --until 08:00`, `snooze --until 08:00`, `settings set paused_until 08:00`: the
    next 08:00 on this machine's clock, as the tray's "until 08:00" and quiet hours mean."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
        assert parse_until(typed, moment) == datetime.fromisoformat(expected_utc).replace(
            tzinfo=UTC
        )
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("typed", ["2026-11-28T11:59:00Z", "2020-01-01", "0s"])
def test_an_end_already_past_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{typed} is already past; give a later time"):
        parse_until(typed, NOW)


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
