"""Answers in the shared database: the first wins, and a producer waiting in Python hears it
(woken by the database's own change signal), or hears that the popup was dismissed, or
times out -- on a file and on a server alike."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from tests.conftest import execute
from traycourier.store import Action, Database, InvalidInput, answers, enqueue, wait_for_answer

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def later(action: object, delay_s: float = 0.3) -> threading.Thread:
    """Do `action` on another thread after a moment, as a user clicking would."""
    thread = threading.Thread(target=lambda: (time.sleep(delay_s), action()))  # type: ignore[operator]
    thread.start()
    return thread


def test_a_waiting_producer_hears_the_answer(any_db: Database) -> None:
    ntf = enqueue(any_db, "Deploy?", actions=[Action("Approve"), Action("Deny")]).id
    clicker = later(lambda: answers.answer(any_db, ntf, "Approve", "laptop", NOW))
    state = wait_for_answer(any_db, ntf, timeout_s=60)
    clicker.join()
    assert state is not None
    assert (state.answer, state.device, state.dismissed) == ("Approve", "laptop", False)
    assert state.answered_at == "2026-12-06 09:00:00.000000"


def test_a_dismissed_popup_ends_the_wait_without_an_answer(any_db: Database) -> None:
    ntf = enqueue(any_db, "Deploy?", priority="urgent", actions=[Action("Approve")]).id
    execute(any_db, "INSERT INTO notification_deliveries (notification_id, route_name, sink, "
                    "status, external_id) VALUES (:id, 'desktop', 'desktop', 'sent', :ext)",
            id=ntf, ext=":1.3/1")  # fmt: skip
    closer = later(lambda: answers.record_closed(any_db, ":1.3/1", "", "dismissed", NOW))
    state = wait_for_answer(any_db, ntf, timeout_s=60)
    closer.join()
    assert state is not None and state.answer is None and state.dismissed


def test_no_answer_in_time_is_none_and_an_unknown_id_is_refused(any_db: Database) -> None:
    ntf = enqueue(any_db, "Deploy?", actions=[Action("Approve")]).id
    assert wait_for_answer(any_db, ntf, timeout_s=0.2) is None
    with pytest.raises(InvalidInput, match="no notification 'ntf_nope'"):
        wait_for_answer(any_db, "ntf_nope", timeout_s=0.2)


def test_the_first_answer_wins_on_any_device(any_db: Database) -> None:
    ntf = enqueue(any_db, "Deploy?", actions=[Action("Approve"), Action("Deny")]).id
    first = answers.answer(any_db, ntf, "Deny", "desktop", NOW)
    second = answers.answer(any_db, ntf, "Approve", "laptop", NOW)
    assert first.won and not second.won
    assert (second.answer, second.device) == ("Deny", "desktop")
