"""The one timestamp format of the shared file: UTC text that sorts like SQLite's `datetime()`.

`YYYY-MM-DD HH:MM:SS.ffffff` compares correctly as text with the `YYYY-MM-DD HH:MM:SS[.fff]`
that SQL defaults write, so Python and SQL timestamps can be mixed in one WHERE clause.

Every value read from the file is untrusted: anything that is not a time this code can
compute with raises ValueError (never OverflowError or TypeError), so callers have one
exception to handle.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
"""Times a setting may hold: a day inside datetime's range, so converting one to any local
zone (UTC-12 to UTC+14) and adding a tick's worth of seconds never overflows."""


def fmt(moment: datetime) -> str:
    """Text form of an aware datetime, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_GO_TIME = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2}) (?P<clock>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d{1,9})?"
    r" (?P<sign>[+-])(?P<hours>\d{2})(?P<minutes>\d{2}) (?:[A-Za-z]{1,10}|[+-]\d{2,4})"
    r"(?: m=[+-]\d+\.\d{1,9})?"
)
"""Go's `time.Time.String()`, what a Go program writing a time through database/sql stores:
`2026-12-06 04:22:25.278156123 +0000 UTC`, the offset then the zone's name (or `+03` where
the zone has none), with `m=+12.3…` when the value still carries its monotonic reading."""


def _iso(text: str) -> str:
    """The ISO 8601 form of a stored time: the contract's and RFC 3339's are that already
    (the space for the 'T'); Go's is rewritten, its nanoseconds cut to microseconds."""
    found = _GO_TIME.fullmatch(text)
    if found is None:
        return text.replace(" ", "T", 1)
    fraction = (found["fraction"] or "")[:7]
    offset = f"{found['sign']}{found['hours']}:{found['minutes']}"
    return f"{found['day']}T{found['clock']}{fraction}{offset}"


def parse(text: str) -> datetime:
    """Parse a timestamp from the file: the contract's UTC text (either precision), ISO 8601
    and RFC 3339 with an offset (nanoseconds too), or Go's default text form. A time with
    no offset is UTC."""
    if not isinstance(text, str):
        raise ValueError(f"a time must be text, not {type(text).__name__}")
    try:
        value = datetime.fromisoformat(_iso(text.strip()))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text[:40]!r} is outside the range of times") from None


_SECONDS = re.compile(r"\s*[+-]?[0-9]+(\.[0-9]+)?\s*")


def parse_or_none(value: object) -> datetime | None:
    """A stored time to show: None when there is none, or when it is not one."""
    try:
        return parse(value) if value else None  # type: ignore[arg-type]
    except ValueError:
        return None


def from_stored(value: object) -> datetime:
    """A time a producer wrote in any SQLite type: text as above, or a number of seconds
    since 1970 (what `strftime('%s')` and most languages' clocks give), also as the digits
    a TEXT column turns it into."""
    if isinstance(value, bool):
        raise ValueError("a time cannot be true or false")
    if isinstance(value, str) and _SECONDS.fullmatch(value):
        value = float(value)
    if isinstance(value, int | float):
        try:
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value)
        except (OverflowError, ValueError):
            raise ValueError(f"{value!r} seconds is outside the range of times") from None
    return parse(value)  # type: ignore[arg-type]


def in_range(moment: datetime) -> bool:
    """Whether a time may be stored as a setting (see EARLIEST and LATEST)."""
    return EARLIEST <= moment <= LATEST


def utcnow() -> datetime:
    """The real clock; only the agent's outer layer calls it, everything else takes `now`."""
    return datetime.now(UTC)
