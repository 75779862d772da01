"""Another program writes into the agent's own columns of a delivery (its counts, due time,
lease end, device key): that one delivery fails with what was wrong (`invalid_row`), every
other notification is shown, no tick raises, and Retry failed can bring it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import execute, query
from tests.fakes import Shown
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.store import Database, enqueue, write_setting
from traycourier.store.housekeeping import next_event_at, retry_failed

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GOOD = ("good one", "good two", "good three")

# (what another program sets, the reason recorded, whether PostgreSQL's types allow it)
BROKEN = {
    "text attempts": ("attempts = 'abc'", "attempts = 'abc'", False),
    "negative attempts": ("attempts = -3", "attempts = -3", True),
    "text max_attempts": ("max_attempts = 'lots'", "max_attempts = 'lots'", False),
    "a fraction in max_attempts": ("max_attempts = 2.5", "max_attempts = 2.5", False),
    "text rank": ("rank = 'top'", "rank = 'top'", False),
    "a BLOB device key": ("destination_key = x'00'", "destination_key = a BLOB", False),
    "no due time": ("next_attempt_at = NULL", "next_attempt_at = NULL", True),
    "a due time that is no time": ("next_attempt_at = 'soon'", "next_attempt_at = 'soon'", True),
    "a due time that is a number": ("next_attempt_at = 5", "next_attempt_at = '5'", True),
    "a lease that never ends": (
        "status = 'leased', lease_owner = 'gone', lease_expires_at = NULL",
        "lease_expires_at = NULL",
        True,
    ),
    "a lease end that is no time": (
        "status = 'leased', lease_owner = 'gone', lease_expires_at = 'never'",
        "lease_expires_at = 'never'",
        True,
    ),
}


def runtime(db: Database, notifier: Shown) -> Runtime:
    clock = iter(T0 + timedelta(seconds=s) for s in range(10_000))
    agent = Runtime(db, notifier, RuntimeConfig(owner="me"), clock=lambda: next(clock))  # type: ignore[arg-type]
    agent.start()
    return agent


@pytest.mark.parametrize("case", BROKEN)
def test_a_delivery_another_program_broke_fails_alone_with_the_reason(
    db: Database, case: str
) -> None:
    fails_alone(db, case)


@pytest.mark.parametrize("case", [case for case, (*_, server) in BROKEN.items() if server])
def test_the_same_on_postgresql_where_its_types_allow_the_value(pg_url: str, case: str) -> None:
    db = Database.open(pg_url)
    try:
        fails_alone(db, case)
    finally:
        db.close()


def fails_alone(db: Database, case: str) -> None:
    change, reason, _ = BROKEN[case]
    write_setting(db, "burst_limit", 0, T0)  # every one shown on its own, to count them
    victim = enqueue(db, "victim", priority="urgent", now=T0).id
    shown = Shown()
    agent = runtime(db, shown)
    agent.tick()  # routes and shows the victim, which another program then breaks
    execute(db, "UPDATE notification_deliveries SET status = 'queued' WHERE id = 1")
    execute(db, f"UPDATE notification_deliveries SET {change} WHERE id = 1")
    for title in GOOD:
        enqueue(db, title, priority="urgent", now=T0)
    shown.titles.clear()
    agent.tick()
    assert shown.titles == list(GOOD)
    [(status, code, why)] = query(
        db,
        "SELECT status, last_error_code, last_error FROM notification_deliveries "
        "WHERE notification_id = :id",
        id=victim,
    )
    assert (status, code) == ("failed", "invalid_row")
    assert why == f"another program wrote {reason}"
    assert next_event_at(db) is None  # nothing left to wake for: no busy loop
    if "device key" not in case:  # Retry failed shows it again (a BLOB key is no device)
        assert retry_failed(db, T0) == 1
        agent.tick()
        assert shown.titles == [*GOOD, "victim"]
