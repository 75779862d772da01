"""What a popup offers and what an answer does, as plain functions and on a real database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import UTC, datetime

import pytest

from traycourier.agent.engine import popups
from traycourier.agent.system import device
from traycourier.store import Action, Database, enqueue
from traycourier.store.answers import answer_of

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("actions", "offered"),
    [
        ([], (("default", "Mark read"),)),
        (
            [{"label": "Open log", "url": "https://ci/7"}, {"label": "Retry"}],
            (("default", "Open log"), ("1", "Retry")),  # the click opens the link
        ),
        (
            [{"label": "Approve", "id": "yes"}, {"label": "Log", "url": "https://ci/7"}],
            (("default", "Log"), ("0", "Approve")),
        ),
        ([{"label": "Run", "url": "javascript:alert(1)"}], (("default", "Mark read"),)),
    ],
    ids=["none", "link first", "answer first", "no web link"],
)
def test_a_popup_offers_the_click_and_each_action_keyed_by_its_place(
    actions: list[dict[str, str]], offered: tuple[tuple[str, str], ...]
) -> None:
    assert popups.buttons(json.dumps(actions)) == offered


@pytest.mark.parametrize("broken", ["not json", "{}", '"x"', "[" * 3000 + "]" * 3000, None])
def test_actions_no_one_can_use_offer_only_the_click(broken: object) -> None:
    assert popups.buttons(broken) == (("default", "Mark read"),)


def test_the_first_answer_wins_and_a_later_one_is_refused_politely(any_db: Database) -> None:
    ntf = enqueue(any_db, "Deploy?", actions=[Action("Approve"), Action("Deny")]).id
    told: list[tuple[str, str]] = []

    def tell(title: str, body: str) -> None:
        told.append((title, body))

    assert popups.answer(any_db, ntf, "Approve", "laptop", NOW, tell)
    assert not popups.answer(any_db, ntf, "Deny", "desktop", NOW, tell)
    assert told == [("Already answered", f"{ntf} was answered on laptop: Approve")]
    state = answer_of(any_db, ntf)
    assert state is not None
    assert (state.answer, state.device) == ("Approve", "laptop")


@pytest.mark.parametrize(
    ("pid", "runs"), [(os.getpid(), True), (0, False), (-1, False), (2**62, False)]
)
def test_an_agent_counts_as_running_only_while_its_process_runs(pid: int, runs: bool) -> None:
    assert device.process_alive(pid) is runs


def test_a_process_that_ended_counts_as_gone() -> None:
    child = subprocess.Popen(["sleep", "0"])
    child.wait()  # reaped: its pid is free
    assert not device.process_alive(child.pid)
    assert device.process_gone(socket.gethostname(), child.pid)
    assert not device.process_gone("another-host", child.pid)
