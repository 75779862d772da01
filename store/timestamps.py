"""The one timestamp format of the shared file: UTC text that sorts like SQLite's `datetime()`.

`YYYY-MM-DD HH:MM:SS.ffffff` compares correctly as text with the `YYYY-MM-DD HH:MM:SS[.fff]`
that SQL defaults write, so Python and SQL timestamps can be mixed in one WHERE clause.
"""

from __future__ import annotations

from datetime import UTC, datetime


def fmt(moment: datetime) -> str:
    """Text form of an aware datetime, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def parse(text: str) -> datetime:
    """Parse a timestamp from the file (either precision; ISO 'T' also accepted)."""
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utcnow() -> datetime:
    """The real clock; only the agent's outer layer calls it, everything else takes `now`."""
    return datetime.now(UTC)
