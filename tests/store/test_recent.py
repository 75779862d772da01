"""The tray's Recent through a storm: the urgent unread and the failed ones a burst pushed
out of the newest entries are found again (`store.history.pushed_out`) and put back in view
(`agent.policy.recent.in_view`), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import execute
from traycourier.agent.policy import recent, routing
from traycourier.store import Database, Settings, enqueue, history, queries

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(any_db: Database) -> Database:
    return any_db


def route(db: Database) -> None:
    settings = Settings(max_age_seconds=0)
    db.route(lambda item: routing.decide_desktop(item, settings, T0), T0)


def in_view(db: Database, limit: int = 10) -> list[str]:
    newest = history.recent_notifications(db, limit)
    pushed = history.pushed_out(db, limit, limit)
    return [item.title for item in recent.in_view(newest, pushed, limit)]


def test_an_urgent_and_a_failed_one_stay_in_view_through_a_storm(db: Database) -> None:
    enqueue(db, "Build failed", priority="urgent", source="deploy")
    broken = enqueue(db, "Backup broken", source="backup")
    enqueue(db, "Old news", source="news")
    for i in range(30):
        enqueue(db, f"ci {i}", source="ci")
    route(db)
    execute(db, "UPDATE notification_deliveries SET status = 'failed' "
                f"WHERE notification_id = '{broken.id}'")  # fmt: skip
    newest = [f"ci {i}" for i in range(29, 21, -1)]
    assert in_view(db) == [*newest, "Backup broken", "Build failed"]


def test_once_read_an_urgent_one_may_leave(db: Database) -> None:
    urgent = enqueue(db, "Build failed", priority="urgent", source="deploy")
    for i in range(12):
        enqueue(db, f"ci {i}", source="ci")
    route(db)
    assert "Build failed" in in_view(db)
    queries.mark_read(db, urgent.id, T0)
    assert in_view(db) == [f"ci {i}" for i in range(11, 1, -1)]


def test_with_more_important_ones_than_places_the_newest_important_ones_win(db: Database) -> None:
    for i in range(6):
        enqueue(db, f"urgent {i}", priority="urgent", source="deploy")
    for i in range(8):
        enqueue(db, f"ci {i}", source="ci")
    route(db)
    shown = in_view(db, limit=4)
    assert shown == ["urgent 5", "urgent 4", "urgent 3", "urgent 2"]


def test_beyond_the_window_nothing_is_looked_for(db: Database) -> None:
    enqueue(db, "Ancient alarm", priority="urgent")
    for i in range(history.IMPORTANT_AMONG + 10):
        enqueue(db, f"ci {i}", source="ci")
    route(db)
    assert history.pushed_out(db, 10, 10) == []


def test_history_narrows_by_source_search_and_age_on_both_backends(db: Database) -> None:
    from datetime import timedelta

    enqueue(db, "100% done_", "backup finished", source="backup")
    enqueue(db, "Build failed", "PROD is down", priority="urgent", source="deploy")
    old = enqueue(db, "Old news", source="news").id
    route(db)
    execute(db, "UPDATE notifications SET created_at = '2026-12-04 12:00:00.000000' "
                f"WHERE id = '{old}'")  # fmt: skip

    def titles(**narrow: object) -> list[str]:
        return [row.title for row in history.history(db, **narrow)]  # type: ignore[arg-type]

    assert titles() == ["Old news", "Build failed", "100% done_"]
    assert titles(search="100%") == ["100% done_"]
    assert titles(search="prod") == ["Build failed"]
    assert titles(search="%") == ["100% done_"]
    assert titles(source="news") == ["Old news"]
    assert titles(since=T0 - timedelta(days=1)) == ["Build failed", "100% done_"]  # created now
    assert titles(until=T0 - timedelta(days=1)) == ["Old news"]
    assert titles(limit=1) == ["Old news"]


def test_history_pages_by_seq_and_narrows_by_priority_and_unread_on_both_backends(
    db: Database,
) -> None:
    """The history window's filters and its pages: the next page starts below the last row
    shown, whatever was added meanwhile."""
    ids = [enqueue(db, f"n{i}", priority="urgent" if i % 3 == 0 else "info").id for i in range(7)]
    route(db)
    execute(db, f"UPDATE notifications SET read_at = created_at WHERE id = '{ids[6]}'")

    def titles(**narrow: object) -> list[str]:
        return [row.title for row in history.history(db, **narrow)]  # type: ignore[arg-type]

    first = history.history(db, limit=3)
    assert [r.title for r in first] == ["n6", "n5", "n4"]
    enqueue(db, "newer")  # arrives while the user reads the first page
    assert first[-1].seq is not None
    assert titles(limit=3, before=first[-1].seq) == ["n3", "n2", "n1"]
    assert titles(priority="urgent") == ["n6", "n3", "n0"]
    assert titles(priority="urgent", unread=True) == ["n3", "n0"]


def test_history_narrows_by_what_became_of_it_on_both_backends(db: Database) -> None:
    ids = {t: enqueue(db, t).id for t in ("shown", "failed", "skipped", "waiting", "asked")}
    route(db)
    enqueue(db, "not routed yet")
    for title, status in (("shown", "sent"), ("failed", "failed"), ("skipped", "skipped")):
        execute(db, f"UPDATE notification_deliveries SET status = '{status}' "
                    f"WHERE notification_id = '{ids[title]}'")  # fmt: skip
    execute(db, f"UPDATE notifications SET answer = 'yes' WHERE id = '{ids['asked']}'")

    def titles(outcome: str) -> list[str]:
        return [row.title for row in history.history(db, outcome=outcome)]

    assert titles("shown") == ["shown"]
    assert titles("failed") == ["failed"]
    assert titles("skipped") == ["skipped"]
    assert titles("waiting") == ["asked", "waiting"]
    assert titles("answered") == ["asked"]
    assert titles("new") == ["not routed yet"]
