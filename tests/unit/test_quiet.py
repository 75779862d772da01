"""Quiet hours, table-driven with an injected clock and zone: windows across midnight,
weekday rules, daylight-saving changes in both directions, breakthrough at each level."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from traycourier.agent.policy.quiet import Window, breaks_through, parse_window, quiet_now

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = Window(time(22, 0), time(7, 0))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("22:00-07:00", NIGHT),
        (" 09:30 - 17:00 ", Window(time(9, 30), time(17, 0))),
        ("off", None),
        ("", None),
    ],
)
def test_windows_are_read(text: str, window: Window | None) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize("text", ["22-07", "24:00-07:00", "22:00-22:00", "22:00", "night"])
def test_bad_windows_are_refused_with_the_form_to_use(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        parse_window(text)


@pytest.mark.parametrize(
    ("now", "weekdays_only", "until"),
    [
        (local(2027, 1, 13, 23, 0), False, local(2027, 1, 14, 7, 0)),  # Wednesday night
        (local(2027, 1, 14, 6, 59), False, local(2027, 1, 14, 7, 0)),  # after midnight
        (local(2027, 1, 14, 7, 0), False, None),  # the end is not quiet
        (local(2027, 1, 14, 21, 59), False, None),
        (local(2027, 1, 14, 22, 0), False, local(2027, 1, 15, 7, 0)),  # the start is
        (local(2027, 1, 16, 2, 0), True, local(2027, 1, 16, 7, 0)),  # Friday's night
        (local(2027, 1, 16, 23, 0), True, None),  # Saturday's night: not a weekday
        (local(2027, 1, 18, 1, 0), True, None),  # Sunday's night, on Monday morning
        (local(2027, 1, 18, 23, 0), True, local(2027, 1, 19, 7, 0)),  # Monday's night
    ],
)
def test_night_windows_across_midnight_and_weekdays(
    now: datetime, weekdays_only: bool, until: datetime | None
) -> None:
    state = quiet_now(NIGHT, weekdays_only, now.astimezone(UTC), BERLIN)
    assert state.active is (until is not None)
    assert state.ends_at == (until.astimezone(UTC) if until else None)


def test_a_daytime_window() -> None:
    focus = Window(time(9, 0), time(12, 0))
    assert quiet_now(focus, False, local(2027, 1, 13, 10, 0), BERLIN).active
    assert not quiet_now(focus, False, local(2027, 1, 13, 12, 30), BERLIN).active
    assert not quiet_now(focus, False, local(2027, 1, 13, 8, 59), BERLIN).active


def quiet_spans(window: Window, first: datetime, days: int) -> list[tuple[datetime, datetime]]:
    """Every quiet span between `first` and `days` later, found minute by minute."""
    spans: list[tuple[datetime, datetime]] = []
    moment, start = first.astimezone(UTC), None
    while moment < first.astimezone(UTC) + timedelta(days=days):
        state = quiet_now(window, False, moment, BERLIN)
        if state.active and start is None:
            start = moment
            assert state.ends_at is not None
            spans.append((start, state.ends_at))
        if not state.active:
            start = None
        moment += timedelta(minutes=1)
    return spans


@pytest.mark.parametrize(
    ("first", "window", "hours"),
    [
        # spring forward, 2027-03-28 02:00 -> 03:00: that night is an hour shorter
        (local(2027, 3, 27, 12, 0), NIGHT, [8.0, 9.0, 9.0]),
        # fall back, 2027-10-31 03:00 -> 02:00: that night is an hour longer
        (local(2027, 10, 30, 12, 0), NIGHT, [10.0, 9.0, 9.0]),
        # a window inside the changed hour happens once each day, never twice or not at all
        (local(2027, 3, 27, 12, 0), Window(time(1, 30), time(2, 30)), [1.0, 1.0, 1.0]),
        (local(2027, 10, 30, 12, 0), Window(time(1, 30), time(2, 30)), [1.0, 1.0, 1.0]),
    ],
)
def test_daylight_saving_neither_skips_nor_doubles_a_window(
    first: datetime, window: Window, hours: list[float]
) -> None:
    spans = quiet_spans(window, first, 3)
    assert [(end - start).total_seconds() / 3600 for start, end in spans] == hours
    for _start, end in spans:  # each span really ends when it said it would
        assert not quiet_now(window, False, end, BERLIN).active
        assert quiet_now(window, False, end - timedelta(seconds=1), BERLIN).active


@pytest.mark.parametrize(
    ("priority", "breakthrough", "shown"),
    [
        ("urgent", "urgent", True),
        ("action", "urgent", False),
        ("action", "action", True),
        ("warning", "action", False),
        ("info", "info", True),
        ("urgent", "info", True),
    ],
)
def test_breakthrough_at_each_level(priority: str, breakthrough: str, shown: bool) -> None:
    assert breaks_through(priority, breakthrough) is shown
