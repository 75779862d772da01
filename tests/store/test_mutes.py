"""The `mutes` table as another program may write it: whatever a row holds, reading the
mutes never fails, and a row that is not usable is left out."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from traycourier.store import Database, InvalidInput, mutes, timestamps

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_mute_unmute_and_what_is_in_force(any_db: Database) -> None:
    db = any_db  # a SQLite file and a PostgreSQL server
    mutes.mute(db, "backup", NOW + timedelta(hours=1), True, NOW)
    mutes.mute(db, "ci", None, False, NOW)
    mutes.mute(db, "old", NOW + timedelta(seconds=1), True, NOW)
    found = mutes.active(db, NOW + timedelta(seconds=1))  # "old" ends at this second
    assert sorted(found) == ["backup", "ci"]
    assert found["ci"].until is None and found["ci"].urgent_too is False
    mutes.mute(db, "backup", None, True, NOW)  # muting again replaces the mute
    assert mutes.active(db, NOW)["backup"].until is None
    assert mutes.unmute(db, "backup") is True
    assert mutes.unmute(db, "backup") is False
    with pytest.raises(InvalidInput):
        mutes.mute(db, "x", NOW - timedelta(seconds=1), True, NOW)
    with pytest.raises(InvalidInput):
        mutes.mute(db, " ", None, True, NOW)


@pytest.mark.parametrize(
    ("source", "until", "urgent_too"),
    [
        (b"\xff\xfe", None, 1),
        (42, None, 1),
        ("blob-until", b"\x00", 1),
        ("bad-time", "tomorrow-ish", 1),
        ("number-time", 12.5, 1),
        ("text-flag", None, "yes"),
    ],
)
def test_a_row_another_program_broke_is_left_out(
    db: Database, source: object, until: object, urgent_too: object
) -> None:
    mutes.mute(db, "good", None, True, NOW)
    with sqlite3.connect(db.path) as conn:
        conn.execute(
            "INSERT INTO mutes (source, until, urgent_too, created_at) VALUES (?, ?, ?, ?)",
            (source, until, urgent_too, timestamps.fmt(NOW)),
        )
    found = mutes.active(db, NOW)
    assert "good" in found
    assert all(isinstance(m.source, str) for m in found.values())
